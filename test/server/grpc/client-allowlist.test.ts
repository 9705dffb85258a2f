import { describe, expect, it } from 'vitest';
import { clientAllowlistInterceptor } from '../../../src/server/grpc/client-allowlist.js';

describe('clientAllowlistInterceptor options', () => {
  it('refuses an empty allowlist at start-up, which would admit nobody', () => {
    expect(() => clientAllowlistInterceptor([])).toThrow(TypeError);
  });

  it.each(['mesh.test/ns/a/sa/b', 'spiffe://Mesh.test/ns/a', 'spiffe://mesh.test/ns/a/', 'spiffe://mesh.test/ns/%41'])(
    'refuses %j, which is not a SPIFFE ID, with a TypeError naming it',
    (id) => {
      expect(() => clientAllowlistInterceptor([id])).toThrow(new RegExp(`allowedClientIds: "${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    },
  );

  it('accepts valid SPIFFE IDs', () => {
    expect(typeof clientAllowlistInterceptor(['spiffe://mesh.test/ns/a/sa/b', 'spiffe://mesh.test'])).toBe('function');
  });
});
