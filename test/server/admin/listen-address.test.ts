import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../../src/server/admin/listen-address.js';

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9901', { kind: 'tcp', host: '127.0.0.1', port: 9901 }],
    ['0.0.0.0:0', { kind: 'tcp', host: '0.0.0.0', port: 0 }],
    ['localhost:65535', { kind: 'tcp', host: 'localhost', port: 65535 }],
    ['[::1]:9901', { kind: 'tcp', host: '::1', port: 9901 }],
    ['unix:/run/meshwarden/admin.sock', { kind: 'unix', path: '/run/meshwarden/admin.sock' }],
  ])('reads %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['9901', ':9901', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:http', '::1:9901', 'unix:relative.sock', ''])(
    'refuses %j with ERR_ADMIN_ADDRESS',
    (text) => {
      expect(() => parseListenAddress(text)).toThrowError(expect.objectContaining({ code: 'ERR_ADMIN_ADDRESS', address: text }));
    },
  );
});
