/**
 * A TLS server name compares as DNS names do, on HTTP requests as on connections: case and a
 * trailing dot change nothing, on the request's side (envoy/ canonicalizes it) and on the
 * policy's (the loader writes `connection.sni` values the same way). Before, an HTTP request
 * kept its SNI as sent, so a client could pass a DENY on `connection.sni` by changing its case.
 */
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/domain/index.js';
import { toAccessRequest } from '../../src/envoy/index.js';
import { compileTree, referenceEvaluate } from '../../src/policy/engine/index.js';
import { parsePolicyText } from '../../src/policy/load/index.js';

const ENGINE = { defaultAction: 'ALLOW', rootNamespace: 'istio-system' } as const;

function policiesDenying(sni: string) {
  const { policies, errors } = parsePolicyText(
    `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: no-cache }
spec:
  action: DENY
  rules: [{ when: [{ key: connection.sni, values: ["${sni}"] }] }]
`,
    'p.yaml',
    ENGINE,
  );
  expect(errors).toEqual([]);
  return policies;
}

const httpWithSni = (sni: string) =>
  toAccessRequest({ attributes: { request: { http: { method: 'GET', path: '/', host: 'cache' } }, tlsSession: { sni } } });

describe('connection.sni on an HTTP request', () => {
  it.each(['CACHE.data.svc', 'cache.data.svc.', 'Cache.Data.Svc.'])('is denied by a DENY on cache.data.svc when the client writes it %s', (sni) => {
    const policies = policiesDenying('cache.data.svc');
    const request = httpWithSni(sni);
    expect(compileTree(policies, ENGINE).evaluate(ANONYMOUS, request).effect).toBe('deny');
    expect(referenceEvaluate(policies, ENGINE, ANONYMOUS, request).effect).toBe('deny');
  });

  it('is denied by a DENY the policy wrote in capitals with a trailing dot', () => {
    const policies = policiesDenying('Cache.Data.svc.');
    expect(compileTree(policies, ENGINE).evaluate(ANONYMOUS, httpWithSni('cache.data.svc')).effect).toBe('deny');
  });

  it('is refused (400, invalid_sni) when it is not a DNS name, as a connection\'s is', () => {
    expect(() => httpWithSni('cache:443')).toThrow(expect.objectContaining({ code: 'invalid_sni', attribute: 'attributes.tls_session.sni' }));
  });

  it('is refused (400, invalid_sni) when a character outside ASCII would lower-case into one (the Kelvin sign into k), never read as the DNS name it is not', () => {
    expect(() => httpWithSni('\u212Aube.internal')).toThrow(expect.objectContaining({ code: 'invalid_sni' }));
  });
});
