import { describe, expect, it } from 'vitest';
import { clientAllowlist } from '../../../src/server/grpc/client-allowlist.js';

describe('clientAllowlist options', () => {
  it('refuses an empty allowlist at start-up, which would admit nobody', () => {
    expect(() => clientAllowlist([])).toThrow(TypeError);
  });

  it.each(['mesh.test/ns/a/sa/b', 'spiffe://Mesh.test/ns/a', 'spiffe://mesh.test/ns/a/', 'spiffe://mesh.test/ns/%41'])(
    'refuses %j, which is not a SPIFFE ID, with a TypeError naming it',
    (id) => {
      expect(() => clientAllowlist([id])).toThrow(new RegExp(`allowedClientIds: "${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    },
  );

  it('accepts valid SPIFFE IDs', () => {
    expect(typeof clientAllowlist(['spiffe://mesh.test/ns/a/sa/b', 'spiffe://mesh.test'])).toBe('function');
  });
});
