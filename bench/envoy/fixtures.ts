/**
 * What the Envoy scenarios read: the bench's seeded policy sets (10, 1,000, 100,000 rules;
 * bench/lib/policy-set.ts), one allowed GET request per set, distinct paths in the set's
 * vocabulary for the cache-miss rows, a JWT-SVID and its bundle, the meshwarden configs,
 * and the 1,000-rule set translated to RBAC and Rego.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { compileTree } from '../../src/policy/engine/index.js';
import type { Policy } from '../../src/policy/model.js';
import { distinctRequests } from '../lib/distinct-requests.js';
import type { CheckMessageOptions } from '../lib/grpc-frame.js';
import { generatePolicies, generateRequests, workloadFor } from '../lib/policy-set.js';
import { policiesYaml } from '../lib/policy-yaml.js';
import { policySizes, type PolicySize } from '../load/fixtures.js';
import { ENGINE_OPTIONS } from '../micro/tree-eval.js';
import { rbacFilters, regoModule, xfccOf } from './translate.js';

/** One HTTP request as h2load sends it to Envoy. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly service: string;
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PolicyFixture {
  readonly size: PolicySize;
  readonly rules: number;
  readonly policies: readonly Policy[];
  readonly file: string;
  readonly allowed: HttpRequest;
  /** Distinct paths, same caller/method/service as `allowed`: decision-cache keys all differ. */
  readonly missPaths: readonly string[];
  /** Services with their own virtual host in this set's Envoys. */
  readonly services: readonly string[];
}

export interface EnvoyFixtures {
  readonly dir: string;
  readonly sets: Readonly<Record<PolicySize, PolicyFixture>>;
  readonly bundle: string;
  /** The 1,000-rule allowed request, identity as a JWT-SVID bearer token instead of XFCC. */
  readonly jwtRequest: HttpRequest;
  readonly rbacFilters: Record<string, unknown>[];
  readonly regoFile: string;
  /** Requests of the 1,000-rule set on which RBAC, OPA and meshwarden are held to agree. */
  readonly agreement: readonly HttpRequest[];
  meshwardenConfig(key: string, size: PolicySize, transport: 'native' | 'grpc-js'): string;
}

export async function writeEnvoyFixtures(dir: string, smoke: boolean): Promise<EnvoyFixtures> {
  const rules = policySizes(smoke);
  const missCount = smoke ? 500 : 20_000;
  const sets = {} as Record<PolicySize, PolicyFixture>;
  for (const size of ['small', 'mid', 'large'] as const) {
    const workload = workloadFor(rules[size]);
    const policies = generatePolicies(workload);
    const file = write(dir, `envoy-policies-${rules[size]}.yaml`, policiesYaml(policies));
    const allowed = allowedGet(policies, workload);
    const services = size === 'mid' ? [...new Set(policies.flatMap((p) => p.scope.services ?? []))] : [allowed.service];
    sets[size] = { size, rules: rules[size], policies, file, allowed, missPaths: missPaths(policies, allowed.service, missCount), services };
  }
  const mid = sets.mid;

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // XFCC identities need an X.509 authority in the trust domain's bundle (meshwarden refuses
  // them otherwise, even without verifyPeerCertificate): a throwaway CA made with openssl.
  const ca = x509Authority(dir);
  const jwtKey = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'jwt-svid' };
  const bundle = write(dir, 'envoy-bundle.json', JSON.stringify({ keys: [jwtKey, ca] }));
  const principal = mid.allowed.headers['x-forwarded-client-cert']!.slice('URI='.length);
  const token = await new SignJWT({ sub: principal, aud: 'meshwarden', exp: Math.floor(Date.now() / 1000) + 3 * 3600 })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .sign(privateKey);
  const { 'x-forwarded-client-cert': _xfcc, ...rest } = mid.allowed.headers;
  const jwtRequest: HttpRequest = { ...mid.allowed, headers: { ...rest, authorization: `Bearer ${token}` } };

  const regoFile = write(dir, 'envoy-policy.rego', regoModule(mid.policies));
  const agreement = distinctRequests(mid.policies, smoke ? 60 : 400, 7).map(toHttp);

  const meshwardenConfig = (key: string, size: PolicySize, transport: 'native' | 'grpc-js') =>
    write(dir, `envoy-${key}.yaml`, JSON.stringify({
      defaultAction: 'DENY',
      decisionLog: { output: 'off' },
      reload: { watch: false },
      grpc: { transport },
      policies: [sets[size].file],
      // One entry: the repeated request always hits it; distinct paths always miss it.
      cache: { decisions: { enabled: true, max: 1, ttl: '60s' } },
      identity: {
        trustDomains: { 'prod.example': { bundle } },
        trustForwardedClientCert: true,
        jwtSvid: { audiences: ['meshwarden'] },
        tokenCache: { max: 10_000, maxTtl: '5m' },
      },
    }, null, 1));
  return { dir, sets, bundle, jwtRequest, rbacFilters: rbacFilters(mid.policies), regoFile, agreement, meshwardenConfig };
}

function toHttp(o: CheckMessageOptions): HttpRequest {
  return {
    method: o.method, path: o.path, service: o.service!, host: o.host,
    headers: { ...(o.principal ? { 'x-forwarded-client-cert': xfccOf(o.principal) } : {}), ...(o.headers ?? {}) },
  };
}

/** The first generated request the set allows, preferring GET (h2load's method without a body). */
function allowedGet(policies: readonly Policy[], workload: ReturnType<typeof workloadFor>): HttpRequest {
  const tree = compileTree(policies, ENGINE_OPTIONS);
  const candidates = generateRequests(policies, workload, 5_000).filter((c) => tree.evaluate(c.subject, c.request).effect === 'allow');
  const found = candidates.find((c) => c.request.method === 'GET');
  if (found === undefined) throw new Error(`no allowed GET request in the ${tree.stats.rules}-rule set`);
  const { request } = found;
  const tenant = request.headers.get('x-tenant');
  const service = request.contextExtensions.get('service')!;
  return toHttp({ principal: found.subject.workload!.uri, method: 'GET', path: request.path, host: request.host, service, ...(tenant ? { headers: { 'x-tenant': tenant } } : {}) });
}

function missPaths(policies: readonly Policy[], service: string, count: number): string[] {
  const patterns = policies
    .filter((p) => p.scope.services?.includes(service))
    .flatMap((p) => p.rules.flatMap((r) => (r.to ?? []).flatMap((o) => o.paths ?? [])))
    .filter((p) => p.includes('*') || p.includes('{'));
  return Array.from({ length: count }, (_, i) => {
    const pattern = patterns[i % Math.max(1, patterns.length)] ?? '/miss/*';
    return pattern.replace('{*}', `x${i}`).replace('{**}', `a/${i}`).replace('*', `t${i}`);
  });
}

function x509Authority(dir: string): Record<string, unknown> {
  const certPath = join(dir, 'envoy-ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'envoy-ca.key'),
    '-out', certPath, '-days', '2', '-subj', '/O=meshwarden bench', '-addext', 'subjectAltName=URI:spiffe://prod.example',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'pipe' });
  const cert = new X509Certificate(readFileSync(certPath));
  return { ...cert.publicKey.export({ format: 'jwk' }), use: 'x509-svid', x5c: [cert.raw.toString('base64')] };
}

function write(dir: string, name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}
