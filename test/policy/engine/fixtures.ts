/** Builders for requests, subjects and policies in engine tests: sensible defaults, override what matters. */
import { connectionRequest, type AccessRequest, type Peer } from '../../../src/domain/access-request.js';
import type { EndUser, Subject } from '../../../src/domain/subject.js';
import { parseSpiffeId } from '../../../src/domain/parse-spiffe-id.js';
import type { EngineOptions, Policy, Rule } from '../../../src/policy/model.js';

export interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: Record<string, string>;
  readonly context?: Record<string, string>;
  readonly source?: Peer;
  readonly destination?: Peer;
  readonly sni?: string;
  /** The body Envoy forwarded; a string is sent as its UTF-8. */
  readonly body?: string | Uint8Array;
}

export function request(spec: RequestSpec = {}): AccessRequest {
  const path = spec.path ?? '/';
  const body = typeof spec.body === 'string' ? Buffer.from(spec.body) : spec.body;
  return {
    ...(body === undefined ? {} : { body }),
    kind: 'http',
    requestId: 'r-1',
    method: spec.method ?? 'GET',
    path,
    rawPath: path,
    query: '',
    host: spec.host ?? 'payments.prod.svc',
    scheme: 'https',
    protocol: 'HTTP/2',
    headers: new Map(Object.entries(spec.headers ?? {})),
    source: spec.source ?? {},
    destination: spec.destination ?? {},
    contextExtensions: new Map(Object.entries(spec.context ?? {})),
    sni: spec.sni ?? '',
    filterMetadata: {},
  };
}

export interface ConnectionSpec {
  readonly source?: Peer;
  readonly destination?: Peer;
  readonly sni?: string;
  /** Envoy's network filter sends none; other senders might. */
  readonly context?: Record<string, string>;
}

/** A TCP connection as the envoy/ adapter reads one from the network filter. */
export function connection(spec: ConnectionSpec = {}): AccessRequest {
  return connectionRequest({
    source: spec.source ?? {},
    destination: spec.destination ?? {},
    contextExtensions: new Map(Object.entries(spec.context ?? {})),
    sni: spec.sni ?? '',
    filterMetadata: {},
  });
}

export function subject(workload?: string, user?: Partial<EndUser>): Subject {
  const result: { workload?: Subject['workload']; user?: EndUser } = {};
  if (workload !== undefined) result.workload = parseSpiffeId(workload);
  if (user !== undefined) {
    result.user = { principal: 'https://idp.example/alice', issuer: 'https://idp.example', subject: 'alice', audiences: [], claims: {}, ...user };
  }
  return result;
}

export type PolicySpec = Partial<Omit<Policy, 'id'>> & { readonly id: string; readonly rules?: readonly Rule[] };

export function policy(spec: PolicySpec): Policy {
  return {
    name: spec.id,
    format: 'meshwarden',
    origin: { file: 'test.yaml', document: 0, line: 1, column: 1 },
    action: 'ALLOW',
    mode: 'enforce',
    scope: {},
    rules: [{}],
    ...spec,
  };
}

export const DENY_BY_DEFAULT: EngineOptions = Object.freeze({ defaultAction: 'DENY', rootNamespace: 'istio-system' });
export const ALLOW_BY_DEFAULT: EngineOptions = Object.freeze({ defaultAction: 'ALLOW', rootNamespace: 'istio-system' });

export const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
export const BATCH = 'spiffe://prod.example/ns/checkout/sa/batch';
export const BILLING = 'spiffe://prod.example/ns/billing/sa/billing';
