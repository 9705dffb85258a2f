/**
 * The `identity:` section of the config file maps onto identity's IdentityOptions: every
 * option identity/ accepts can be written, durations as strings, unknown keys refused.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { createIdentityResolver } from '../../src/identity/index.js';
import { accessRequest } from '../identity/helpers/request.js';

const build = (yaml: string) => buildConfig(parseConfigText(yaml, 'meshwarden.yaml'), '/etc/meshwarden');

const FULL = `
identity:
  trustDomains:
    a.test: { bundle: a.json }
    b.test: { roots: b.pem }
  verifyPeerCertificate: true
  trustForwardedClientCert: false
  jwtSvid: { audiences: [meshwarden], header: x-jwt-svid }
  precedence: jwt
  issuers:
    - { issuer: "https://idp.test", audiences: [shop], jwksUri: "http://127.0.0.1:1/jwks", timeout: 2s, cooldown: 500ms, maxAge: 10m }
    - { issuer: "https://other.test", audiences: [shop], jwksFile: other.json }
  jwtAuthnMetadata: { enabled: true, filter: envoy.filters.http.jwt_authn, payloadKey: verified }
  tokenCache: { max: 500, maxTtl: 2m }
  maxTokenBytes: 8192
  clockTolerance: 30s
`;

describe('the identity section of the config file', () => {
  it('maps every key onto IdentityOptions, durations in the units identity counts in', () => {
    expect(build(FULL).identity).toEqual({
      trustDomains: { 'a.test': { bundle: 'a.json' }, 'b.test': { roots: 'b.pem' } },
      verifyPeerCertificate: true,
      trustForwardedClientCert: false,
      jwtSvid: { audiences: ['meshwarden'], header: 'x-jwt-svid' },
      precedence: 'jwt',
      issuers: [
        { issuer: 'https://idp.test', audiences: ['shop'], jwksUri: 'http://127.0.0.1:1/jwks', timeoutMs: 2000, cooldownMs: 500, maxAgeMs: 600_000 },
        { issuer: 'https://other.test', audiences: ['shop'], jwksFile: 'other.json' },
      ],
      jwtAuthnMetadata: { enabled: true, filter: 'envoy.filters.http.jwt_authn', payloadKey: 'verified' },
      tokenCache: { max: 500, maxTtlSeconds: 120 },
      maxTokenBytes: 8192,
      clockToleranceSeconds: 30,
    });
  });

  it('rounds durations up to the whole units identity requires', () => {
    const identity = build(`
identity:
  trustDomains: {}
  issuers: [{ issuer: "https://idp.test", audiences: [shop], jwksFile: j.json, timeout: 1.5ms, maxAge: 0s }]
  tokenCache: { maxTtl: 500ms }
  clockTolerance: 1500ms
`).identity;
    expect(identity?.issuers?.[0]).toMatchObject({ timeoutMs: 2, maxAgeMs: 0 });
    expect(identity?.tokenCache).toEqual({ max: 10_000, maxTtlSeconds: 1 });
    expect(identity?.clockToleranceSeconds).toBe(1.5);
  });

  it('gives identity options it accepts without complaint', async () => {
    const { identity } = build(FULL);
    const options = { ...identity!, trustDomains: {}, verifyPeerCertificate: false, jwtAuthnMetadata: { enabled: false } };
    const issuers = options.issuers!.filter((issuer) => issuer.jwksUri !== undefined);
    const resolver = await createIdentityResolver({ ...options, issuers }, { baseDir: '/nonexistent', watch: false });
    expect(resolver.ready).toBe(true);
    resolver.close();
  });

  it('makes trustDomains optional like every key: an OIDC-only section trusts no trust domain', async () => {
    const { identity } = build('identity: { issuers: [{ issuer: "https://idp.test", audiences: [shop], jwksUri: "http://127.0.0.1:1/jwks" }] }');
    expect(identity?.trustDomains).toEqual({});
    const resolver = await createIdentityResolver(identity, { baseDir: '/nonexistent', watch: false });
    expect(() => resolver.resolve(accessRequest({ principal: 'spiffe://a.test/ns/x/sa/y' }))).toThrow(
      expect.objectContaining({ reason: 'untrusted_trust_domain' }),
    );
    resolver.close();
  });

  it.each([
    ['the option name instead of the file key', 'identity: { trustDomains: {}, clockToleranceSeconds: 30 }', 'clockToleranceSeconds'],
    ['a duration without a unit', 'identity: { trustDomains: {}, clockTolerance: "30 seconds" }', 'clockTolerance'],
    ['an issuer key identity does not know', 'identity: { issuers: [{ issuer: x, audiences: [a], jwksFile: f, maxAgeMs: 1 }] }', 'maxAgeMs'],
    ['an empty payloadKey', 'identity: { jwtAuthnMetadata: { enabled: true, payloadKey: "" } }', 'payloadKey'],
  ])('refuses %s, naming the field', (_, yaml, field) => {
    const problems = (() => {
      try {
        build(yaml);
        return [];
      } catch (error) {
        return error instanceof ConfigError ? error.problems : [String(error)];
      }
    })();
    expect(problems.join('\n')).toContain(field);
    expect(problems.join('\n')).toMatch(/^meshwarden\.yaml:\d+:\d+: /);
  });
});
