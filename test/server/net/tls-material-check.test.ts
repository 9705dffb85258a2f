import { beforeAll, describe, expect, it } from 'vitest';
import { checkTlsMaterial, TlsMaterialError, type TlsMaterialErrorCode } from '../../../src/server/net/tls-material-check.js';
import { tlsFixtures, type TlsFixtures } from './tls-fixtures.js';

const PATHS = { cert: '/tls/cert.pem', key: '/tls/key.pem', clientCa: '/tls/ca.pem' };

let world: TlsFixtures;
beforeAll(() => {
  world = tlsFixtures();
});

interface Files {
  cert: string;
  key: string;
  ca?: string;
}

function check(files: Files) {
  const material = { cert: Buffer.from(files.cert), key: Buffer.from(files.key), ...(files.ca === undefined ? {} : { clientCa: Buffer.from(files.ca) }) };
  return checkTlsMaterial(material, PATHS);
}

function failure(files: Files): TlsMaterialError {
  try {
    check(files);
  } catch (error) {
    if (error instanceof TlsMaterialError) return error;
    throw error;
  }
  throw new Error('the material was accepted');
}

const half = (pem: string) => pem.slice(0, Math.floor(pem.length / 2));

describe('checkTlsMaterial', () => {
  it('accepts a certificate, its key and a client CA, and names the certificate it serves', () => {
    const { first } = world;
    const checked = check(first);
    expect(checked.certificate.serialNumber).toMatch(/^[0-9A-F]+$/);
    expect(checked.certificate.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(checked.material.cert.toString()).toBe(first.cert);
  });

  it('accepts a certificate chain and a CA bundle of several certificates', () => {
    const { first, second } = world;
    expect(() => check({ cert: first.cert + first.ca, key: first.key, ca: first.ca + second.ca })).not.toThrow();
  });

  it('accepts TLS without a client CA', () => {
    expect(() => check({ cert: world.first.cert, key: world.first.key })).not.toThrow();
  });

  const cases: [string, (w: TlsFixtures) => Files, TlsMaterialErrorCode, string][] = [
    ['a certificate file of garbage', (w) => ({ ...w.first, cert: 'not a certificate' }), 'ERR_TLS_CERT_INVALID', PATHS.cert],
    ['a certificate cut in half', (w) => ({ ...w.first, cert: half(w.first.cert) }), 'ERR_TLS_CERT_INVALID', PATHS.cert],
    ['a PEM block whose body is not a certificate', (w) => ({ ...w.first, cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), 'ERR_TLS_CERT_INVALID', PATHS.cert],
    ['a chain whose second certificate is cut short', (w) => ({ ...w.first, cert: w.first.cert + half(w.first.ca) }), 'ERR_TLS_CERT_INVALID', PATHS.cert],
    ['a key file of garbage', (w) => ({ ...w.first, key: 'not a key' }), 'ERR_TLS_KEY_INVALID', PATHS.key],
    ['a key cut in half', (w) => ({ ...w.first, key: half(w.first.key) }), 'ERR_TLS_KEY_INVALID', PATHS.key],
    ['the key of another certificate', (w) => ({ ...w.first, key: w.second.key }), 'ERR_TLS_KEY_MISMATCH', PATHS.cert],
    ['an empty client CA file', (w) => ({ ...w.first, ca: '' }), 'ERR_TLS_CLIENT_CA_INVALID', PATHS.clientCa],
    ['a client CA bundle whose second certificate is cut short', (w) => ({ ...w.first, ca: w.first.ca + half(w.second.ca) }), 'ERR_TLS_CLIENT_CA_INVALID', PATHS.clientCa],
  ];

  it.each(cases)('refuses %s with %s, naming the file', (_name, files, code, path) => {
    const error = failure(files(world));
    expect(error.code).toBe(code);
    expect(error.path).toBe(path);
    expect(error.message).toContain(path);
  });
});
