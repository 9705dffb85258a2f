/**
 * Realistic synthetic policy sets for benchmarks: policies scoped by destination service,
 * each rule naming a few source principals, methods and paths (exact, prefix, template),
 * some with a header condition; a few mesh-wide DENYs. Deterministic (seeded).
 */
import type { AccessRequest } from '../../src/domain/access-request.js';
import type { Subject } from '../../src/domain/subject.js';
import { parseSpiffeId } from '../../src/domain/parse-spiffe-id.js';
import type { Policy, Rule } from '../../src/policy/model.js';

export const RULES_PER_POLICY = 5;

/** Small, fast, seeded PRNG (mulberry32): the same set on every run. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Workload {
  readonly rules: number;
  readonly services: number;
  readonly principals: number;
}

export function workloadFor(rules: number): Workload {
  const policies = Math.max(1, Math.round(rules / RULES_PER_POLICY));
  return { rules, services: Math.max(1, Math.round(policies / 2)), principals: Math.max(4, Math.round(policies / 4)) };
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const service = (i: number) => `svc-${i}`;
const principal = (i: number) => `spiffe://prod.example/ns/ns-${i % 50}/sa/sa-${i}`;

export function generatePolicies(w: Workload, seed = 1): Policy[] {
  const rnd = random(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const policies: Policy[] = [];
  const count = Math.max(1, Math.round(w.rules / RULES_PER_POLICY));
  for (let p = 0; p < count; p += 1) {
    const rules: Rule[] = [];
    for (let r = 0; r < RULES_PER_POLICY; r += 1) rules.push(generateRule(pick, w, r));
    const isDeny = p % 10 === 9;
    policies.push({
      id: `ns-${p % 50}/policy-${p}`,
      name: `policy-${p}`,
      format: 'istio',
      origin: { file: 'bench.yaml', document: p, line: 1, column: 1 },
      action: isDeny ? 'DENY' : 'ALLOW',
      mode: 'enforce',
      scope: { services: [service(p % w.services)] },
      rules,
    });
  }
  // Mesh-wide guards, as most real sets have: offered to every request.
  policies.push(meshDeny('istio-system/deny-debug', { to: [{ paths: ['/debug/*'] }] }));
  policies.push(meshDeny('istio-system/deny-legacy', { from: [{ principals: ['spiffe://prod.example/ns/legacy/sa/old'] }] }));
  return policies;
}

function generateRule(pick: (n: number) => number, w: Workload, index: number): Rule {
  const base = `/api/v${1 + pick(3)}/r${pick(20)}`;
  const paths = [[base], [`${base}/*`], [`${base}/{*}`, base], [`${base}/{*}/items/{**}`]][index % 4]!;
  const rule: Rule = {
    from: [{ principals: [principal(pick(w.principals)), principal(pick(w.principals))] }],
    to: [{ methods: [METHODS[pick(4)]!, METHODS[pick(4)]!], paths }],
  };
  return index % 3 === 2 ? { ...rule, when: [{ key: 'request.headers[x-tenant]', values: ['acme', 'globex'] }] } : rule;
}

function meshDeny(id: string, rule: Rule): Policy {
  return {
    id, name: id, format: 'istio', origin: { file: 'bench.yaml', document: 0, line: 1, column: 1 },
    action: 'DENY', mode: 'enforce', scope: {}, rules: [rule],
  };
}

export interface Case {
  readonly subject: Subject;
  readonly request: AccessRequest;
}

/** Requests taken from the policies' own vocabulary, so many reach candidate rules. */
export function generateRequests(policies: readonly Policy[], w: Workload, count: number, seed = 2): Case[] {
  const rnd = random(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const cases: Case[] = [];
  for (let i = 0; i < count; i += 1) {
    const policy = policies[pick(policies.length - 2)]!;
    const rule = policy.rules[pick(policy.rules.length)]!;
    const from = rnd() < 0.7 ? rule.from![0]!.principals![0]! : principal(pick(w.principals));
    const path = rule.to![0]!.paths![0]!.replace('{*}', 'x1').replace('{**}', 'a/b').replace('*', 'tail');
    cases.push({ subject: { workload: parseSpiffeId(from) }, request: benchRequest(policy.scope.services![0]!, METHODS[pick(4)]!, path, rnd() < 0.5) });
  }
  return cases;
}

function benchRequest(service: string, method: string, path: string, tenant: boolean): AccessRequest {
  return {
    kind: 'http', requestId: 'bench', method, path, rawPath: path, query: '', host: `${service}.prod.svc`, scheme: 'https', protocol: 'HTTP/2',
    headers: new Map(tenant ? [['x-tenant', 'acme']] : []), source: { address: '10.0.0.1' }, destination: { port: 8080 },
    contextExtensions: new Map([['service', service]]), sni: '', filterMetadata: {},
  };
}
