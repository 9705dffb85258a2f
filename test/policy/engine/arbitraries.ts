/**
 * fast-check arbitraries for policy sets and requests drawn from one small vocabulary,
 * so that random rules and random requests meet often (matches, near misses, absences).
 */
import fc from 'fast-check';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import type { Subject } from '../../../src/domain/subject.js';
import type { Condition, EngineOptions, Operation, Policy, Rule, Source } from '../../../src/policy/model.js';
import { BATCH, BILLING, CHECKOUT, connection, policy, request, subject } from './fixtures.js';

const some = <T>(values: readonly T[], max = 2) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: max });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

const PRINCIPALS = [CHECKOUT, BATCH, BILLING, 'prod.example/ns/checkout/sa/checkout', 'prod.example/ns/checkout/*', '*/sa/batch', '*'];
const NAMESPACES = ['checkout', 'billing', 'bill*', '*'];
const REQUEST_PRINCIPALS = ['https://idp.example/alice', 'https://idp.example/*', '*'];
const BLOCKS = ['10.0.0.0/8', '10.1.0.0/16', '192.168.1.1', '::ffff:10.0.0.0/104', '2001:db8::/32'];
const METHODS = ['GET', 'POST', 'DELETE', 'P*'];
const PATHS = ['/v1/charges', '/v1/charges/*', '/v1/{*}/refunds', '/v1/{**}', '/v1/char*', '*.json', '/', '/v2', '*', '/v1/{*}'];
const HOSTS = ['payments.prod.svc', '*.svc', 'Payments.Prod.svc', 'billing*'];
const PORTS = ['8080', '9090'];

const source: fc.Arbitrary<Source> = fc.record(
  {
    principals: some(PRINCIPALS),
    notPrincipals: some(PRINCIPALS, 1),
    requestPrincipals: some(REQUEST_PRINCIPALS),
    notRequestPrincipals: some(REQUEST_PRINCIPALS, 1),
    namespaces: some(NAMESPACES),
    notNamespaces: some(NAMESPACES, 1),
    ipBlocks: some(BLOCKS),
    notIpBlocks: some(BLOCKS, 1),
    remoteIpBlocks: some(BLOCKS, 1),
    notRemoteIpBlocks: some(BLOCKS, 1),
  },
  { requiredKeys: [] },
).chain((v) => sparse(v, 2));

const operation: fc.Arbitrary<Operation> = fc.record(
  {
    hosts: some(HOSTS),
    notHosts: some(HOSTS, 1),
    ports: some(PORTS),
    notPorts: some(PORTS, 1),
    methods: some(METHODS, 3),
    notMethods: some(METHODS, 1),
    paths: some(PATHS, 3),
    notPaths: some(PATHS, 1),
  },
  { requiredKeys: [] },
).chain((v) => sparse(v, 2));

/** Keeps a random few fields, so that entries stay satisfiable often enough to match. */
function sparse<T extends object>(value: T, fields: number): fc.Arbitrary<T> {
  const keys = Object.keys(value);
  return fc
    .shuffledSubarray(keys, { maxLength: Math.min(fields, keys.length) })
    .map((keys) => Object.fromEntries(keys.map((k) => [k, value[k as keyof T]])) as T);
}

const CONDITIONS: Record<string, readonly string[]> = {
  'request.headers[x-tenant]': ['acme', 'glob*', '*'],
  'request.auth.claims[groups]': ['admin', 'dev', '4*'],
  'request.auth.claims[org][id]': ['o1', 'o2'],
  'request.auth.audiences': ['payments', 'pay*'],
  'request.auth.presenter': ['web', '*'],
  'request.auth.principal': REQUEST_PRINCIPALS,
  'source.ip': BLOCKS,
  'remote.ip': BLOCKS,
  'destination.ip': BLOCKS,
  'destination.port': PORTS,
  'source.namespace': NAMESPACES,
  'source.principal': PRINCIPALS,
  'connection.sni': ['payments.prod.svc', '*.svc'],
  'request.body.json[amount]': ['10', '1*', '*'],
  'request.body.json[order][id]': ['o1', 'o*'],
};

const condition: fc.Arbitrary<Condition> = fc.constantFrom(...Object.keys(CONDITIONS)).chain((key) =>
  fc
    .record({ values: maybe(some(CONDITIONS[key]!)), notValues: maybe(some(CONDITIONS[key]!, 1)) })
    .map(({ values, notValues }) => (values === undefined && notValues === undefined ? { key, values: [CONDITIONS[key]![0]!] } : { key, values, notValues })),
);

const rule: fc.Arbitrary<Rule> = fc.record(
  {
    from: fc.array(source, { minLength: 0, maxLength: 2 }),
    to: fc.array(operation, { minLength: 0, maxLength: 2 }),
    when: fc.array(condition, { minLength: 0, maxLength: 1 }),
  },
  { requiredKeys: [] },
);

const scope = fc.record(
  {
    services: some(['payments', 'billing', 'pay*']),
    namespace: fc.constantFrom('checkout', 'prod', 'istio-system'),
    selector: fc.constantFrom<Record<string, string>>({ app: 'payments' }, { app: 'billing', version: 'v1' }),
  },
  { requiredKeys: [] },
).chain((v) => sparse(v, 1));

const policyArb = (id: string): fc.Arbitrary<Policy> =>
  fc
    .record({
      action: fc.constantFrom('ALLOW', 'DENY', 'AUDIT', 'ALLOW', 'DENY'),
      mode: fc.constantFrom('enforce', 'enforce', 'dry-run'),
      scope,
      rules: fc.array(rule, { minLength: 0, maxLength: 3 }),
    })
    .map((p) => policy({ id, ...p }));

export const policySet: fc.Arbitrary<readonly Policy[]> = fc
  .uniqueArray(fc.constantFrom('a', 'b', 'c', 'ns/d', 'ns/e', 'f', 'g', 'h'), { minLength: 0, maxLength: 6 })
  .chain((ids) => fc.tuple(...ids.map(policyArb)));

export const engineOptions: fc.Arbitrary<EngineOptions> = fc.record({
  defaultAction: fc.constantFrom('ALLOW', 'DENY'),
  rootNamespace: fc.constant('istio-system'),
});

const claims = fc.record(
  {
    groups: fc.oneof(fc.constantFrom('admin', 'dev', 42), fc.constantFrom(['dev', 'admin'], ['ops'], [], [41, 'x'])),
    org: fc.constantFrom({ id: 'o1' }, { id: ['o2'] }, 'o1', null),
  },
  { requiredKeys: [] },
);

const userArb = fc.record({
  principal: fc.constantFrom('https://idp.example/alice', 'https://other.example/bob'),
  audiences: fc.constantFrom([], ['payments'], ['x', 'pay-api']),
  presenter: fc.constantFrom('web', ''),
  claims,
});

export const subjectArb: fc.Arbitrary<Subject> = fc
  .tuple(maybe(fc.constantFrom(CHECKOUT, BATCH, BILLING, 'spiffe://other.example/x')), maybe(userArb))
  .map(([workload, user]) => subject(workload, user));

// Bodies the body conditions see, and bodies they must not trust (cut, mislabelled, ambiguous).
const BODIES: readonly (readonly [string | undefined, Record<string, string>])[] = [
  [undefined, {}],
  ['{"amount":10,"order":{"id":"o1"}}', { 'content-type': 'application/json' }],
  ['{"amount":[10,12],"order":{"id":"o2"}}', { 'content-type': 'application/json' }],
  ['{"amount":"100","order":{"id":["o1","x"]}}', { 'content-type': 'application/json; charset=utf-8' }],
  ['{"amount":10,"amount":2}', { 'content-type': 'application/json' }],
  ['{"amount":10,"order":{"id":"o1"}}', { 'content-type': 'application/json', 'x-envoy-auth-partial-body': 'true' }],
  ['{"amount":10}', { 'content-type': 'text/plain' }],
  ['{"amount":10', { 'content-type': 'application/json' }],
];

const ADDRESSES = ['10.0.0.1', '10.1.2.3', '::ffff:10.1.0.9', '192.168.1.1', '2001:db8::1', 'garbage', ''];

const httpRequestArb: fc.Arbitrary<AccessRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'),
    path: fc.constantFrom('/v1/charges', '/v1/charges/', '/v1/charges/ch_1', '/v1/ch_1/refunds', '/v1/a/b', '/v1', '/', '/v2', '/x.json', '/v1/charges.json', '*'),
    host: fc.constantFrom('payments.prod.svc', 'billing.prod.svc', ''),
    tenant: maybe(fc.constantFrom('acme', 'global', '')),
    service: maybe(fc.constantFrom('payments', 'billing', 'ledger')),
    namespace: maybe(fc.constantFrom('checkout', 'prod')),
    app: maybe(fc.constantFrom('payments', 'billing')),
    version: maybe(fc.constantFrom('v1', 'v2')),
    source: maybe(fc.constantFrom(...ADDRESSES)),
    destination: maybe(fc.constantFrom(...ADDRESSES)),
    port: maybe(fc.constantFrom(8080, 9090)),
    destinationPrincipal: maybe(fc.constantFrom('spiffe://prod.example/ns/prod/sa/payments', 'spiffe://prod.example/ns/checkout/sa/billing')),
    sni: fc.constantFrom('', 'payments.prod.svc'),
    body: fc.constantFrom(...BODIES),
  })
  .map((r) =>
    request({
      method: r.method,
      path: r.path,
      host: r.host,
      headers: { ...r.body[1], ...(r.tenant === undefined ? {} : { 'x-tenant': r.tenant }) },
      ...(r.body[0] === undefined ? {} : { body: r.body[0] }),
      context: defined({ service: r.service, namespace: r.namespace, app: r.app, version: r.version }),
      source: defined({ address: r.source }),
      destination: defined({ address: r.destination, port: r.port, principal: r.destinationPrincipal }),
      sni: r.sni,
    }),
  );

/**
 * TCP connections as the network filter describes them: peers, principals, port and SNI, and
 * (from another sender than the network filter) sometimes context_extensions.
 */
export const connectionArb: fc.Arbitrary<AccessRequest> = fc
  .record({
    service: maybe(fc.constantFrom('payments', 'billing')),
    app: maybe(fc.constantFrom('payments', 'billing')),
    source: maybe(fc.constantFrom(...ADDRESSES)),
    destination: maybe(fc.constantFrom(...ADDRESSES)),
    port: maybe(fc.constantFrom(8080, 9090)),
    destinationPrincipal: maybe(fc.constantFrom('spiffe://prod.example/ns/prod/sa/payments', 'spiffe://prod.example/ns/checkout/sa/billing')),
    sni: fc.constantFrom('', 'payments.prod.svc', 'payments'),
    withContext: fc.boolean(),
  })
  .map((r) =>
    connection({
      context: r.withContext ? defined({ service: r.service, app: r.app }) : {},
      source: defined({ address: r.source }),
      destination: defined({ address: r.destination, port: r.port, principal: r.destinationPrincipal }),
      sni: r.sni,
    }),
  );

/** HTTP requests, and one time in three a connection. */
export const requestArb: fc.Arbitrary<AccessRequest> = fc.oneof({ arbitrary: httpRequestArb, weight: 2 }, { arbitrary: connectionArb, weight: 1 });

function defined<T extends Record<string, unknown>>(record: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
