/**
 * A Check without `request.http` is a TCP connection, as Envoy's network ext_authz filter
 * sends it: read into an AccessRequest of kind `connection`, and answered OK or denied with
 * the decision's metadata only (Envoy lets the connection on or closes it).
 */
import { describe, expect, it } from 'vitest';
import { connectionRequest, type Decision } from '../../src/domain/index.js';
import { decodeCheckRequest, encodeCheckRequest } from '../../src/envoy/check-codec.js';
import { InvalidRequestError } from '../../src/envoy/invalid-request-error.js';
import { structToJson } from '../../src/envoy/struct-json.js';
import { toAccessRequest } from '../../src/envoy/to-access-request.js';
import { DEFAULT_PRINCIPAL_HEADER, toCheckResponse } from '../../src/envoy/to-check-response.js';
import type { AttributeContextMessage, CheckRequestMessage } from '../../src/envoy/wire-messages.js';

const ORDERS = 'spiffe://a.test/ns/shop/sa/orders';
const REDIS = 'spiffe://a.test/ns/data/sa/redis';

/** What the network filter sends for a TLS connection, with include_peer_certificate and include_tls_session. */
const TCP: AttributeContextMessage = {
  source: { address: { socketAddress: { address: '10.1.2.3', portValue: 53124 } }, principal: ORDERS, certificate: '-----BEGIN%20CERTIFICATE-----' },
  destination: { address: { socketAddress: { address: '10.9.9.9', portValue: 6379 } }, principal: REDIS },
  tlsSession: { sni: 'Redis.Data.svc.' },
};

/** Round-trips through the wire codec, so the adapter reads real decoded messages. */
function connection(attributes: AttributeContextMessage): CheckRequestMessage {
  return decodeCheckRequest(encodeCheckRequest({ attributes }));
}

function refusal(check: CheckRequestMessage): Pick<InvalidRequestError, 'code' | 'attribute'> {
  try {
    toAccessRequest(check);
  } catch (error) {
    if (error instanceof InvalidRequestError) return { code: error.code, attribute: error.attribute };
    throw error;
  }
  throw new Error('expected an InvalidRequestError');
}

describe('a Check without HTTP attributes', () => {
  it('is read as a connection: peers, principals, peer certificate, canonical SNI, method TCP and nothing of HTTP', () => {
    const request = toAccessRequest(connection(TCP));
    expect(request).toMatchObject({ kind: 'connection', requestId: '', method: 'TCP', path: '', rawPath: '', host: '', headers: new Map(), body: undefined });
    expect(request).toEqual(
      connectionRequest({
        source: { address: '10.1.2.3', port: 53124, principal: ORDERS, certificate: '-----BEGIN%20CERTIFICATE-----' },
        destination: { address: '10.9.9.9', port: 6379, principal: REDIS },
        contextExtensions: new Map(),
        sni: 'redis.data.svc',
        filterMetadata: {},
      }),
    );
  });

  it('is a connection with no principal and no SNI too (plain TCP): the policy decides', () => {
    const plain = { source: { address: TCP.source!.address }, destination: { address: TCP.destination!.address } };
    expect(toAccessRequest(connection(plain))).toMatchObject({ kind: 'connection', source: { address: '10.1.2.3' }, sni: '' });
  });

  it('is a connection on a unix socket, whose peers have a pipe path and no IP', () => {
    const pipe = { address: { pipe: { path: '/var/run/app.sock' } } };
    expect(toAccessRequest(connection({ source: pipe, destination: pipe }))).toMatchObject({ kind: 'connection', source: {}, destination: {} });
  });

  const refused: ReadonlyArray<[string, AttributeContextMessage, string, string]> = [
    ['no source address', { ...TCP, source: { principal: ORDERS } }, 'missing_connection_attributes', 'attributes.source.address'],
    ['an empty source address', { ...TCP, source: { address: { socketAddress: { address: '', portValue: 1 } } } }, 'missing_connection_attributes', 'attributes.source.address'],
    ['no destination', { source: TCP.source }, 'missing_connection_attributes', 'attributes.destination.address'],
    ['a destination address that is not an IP', { ...TCP, destination: { address: { socketAddress: { address: 'redis', portValue: 6379 } } } }, 'missing_connection_attributes', 'attributes.destination.address'],
    ['an SNI with a port', { ...TCP, tlsSession: { sni: 'redis.data.svc:6379' } }, 'invalid_sni', 'attributes.tls_session.sni'],
    ['an SNI that is an IPv6 literal', { ...TCP, tlsSession: { sni: '[::1]' } }, 'invalid_sni', 'attributes.tls_session.sni'],
    ['an SNI with a NUL byte', { ...TCP, tlsSession: { sni: 'redis\u0000.evil' } }, 'invalid_sni', 'attributes.tls_session.sni'],
    ['an SNI with a space', { ...TCP, tlsSession: { sni: 'redis data' } }, 'invalid_sni', 'attributes.tls_session.sni'],
    ['an SNI with an empty label', { ...TCP, tlsSession: { sni: 'redis..svc' } }, 'invalid_sni', 'attributes.tls_session.sni'],
    ['an SNI of 300 characters', { ...TCP, tlsSession: { sni: `${'a'.repeat(60)}.`.repeat(5) } }, 'invalid_sni', 'attributes.tls_session.sni'],
    ['a non-ASCII SNI', { ...TCP, tlsSession: { sni: 'rédis.svc' } }, 'invalid_sni', 'attributes.tls_session.sni'],
  ];

  it.each(refused)('is refused, naming the attribute, with %s', (_name, attributes, code, attribute) => {
    expect(refusal(connection(attributes))).toEqual({ code, attribute });
  });
});

describe('the answer to a connection', () => {
  const request = toAccessRequest(connection(TCP));
  const ctx = { request, principalHeader: DEFAULT_PRINCIPAL_HEADER, subjectPrincipal: ORDERS };
  const verdicts: ReadonlyArray<[Decision['verdict'], number]> = [['allow', 0], ['deny', 7], ['unauthenticated', 16], ['invalid_request', 3]];

  it.each(verdicts)('to %s is gRPC status %i with the decision in dynamic_metadata, and no HTTP headers or body', (verdict, code) => {
    const decision: Decision = { id: 'd-1', verdict, reason: 'policy_deny', by: { policy: 'redis', rule: 0 }, generation: 3 };
    const response = toCheckResponse(decision, ctx);
    expect(response).toEqual({ status: { code }, dynamicMetadata: expect.anything() });
    expect(structToJson(response.dynamicMetadata)).toMatchObject({ decision: verdict, policy: 'redis', rule: 0, decision_id: 'd-1' });
  });
});
