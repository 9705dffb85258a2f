/**
 * Everything the load contenders read, written once into a work directory: policy sets as
 * YAML, server configs, a SPIFFE bundle with a JWT-SVID key, and pre-encoded request frames
 * (one allowed request per policy set; many distinct ones; tokens).
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { compileTree } from '../../src/policy/engine/index.js';
import type { Policy } from '../../src/policy/model.js';
import { distinctRequests } from '../lib/distinct-requests.js';
import { checkRequestFrame, type CheckMessageOptions } from '../lib/grpc-frame.js';
import { generatePolicies, generateRequests, workloadFor } from '../lib/policy-set.js';
import { policiesYaml } from '../lib/policy-yaml.js';
import { ENGINE_OPTIONS } from '../micro/tree-eval.js';

/** Policy sets by role; smoke mode keeps the large one small so that it starts in a second. */
export type PolicySize = 'small' | 'mid' | 'large';

export function policySizes(smoke: boolean): Readonly<Record<PolicySize, number>> {
  return { small: 10, mid: 1000, large: smoke ? 2000 : 100_000 };
}

export interface LoadFixtures {
  readonly dir: string;
  readonly rules: Readonly<Record<PolicySize, number>>;
  readonly policyFiles: Readonly<Record<PolicySize, string>>;
  /** One request each policy set allows (mTLS principal), per size. */
  readonly allowedFrame: Readonly<Record<PolicySize, string>>;
  /** Distinct requests on the 1,000-rule set. */
  readonly distinctFrames: string;
  readonly jwtFrame: string;
  /** Distinct tokens, same subject. */
  readonly jwtFrames: string;
  readonly bundle: string;
  readonly distinctCount: number;
  readonly tokenCount: number;
}

export async function writeFixtures(dir: string, smoke: boolean): Promise<LoadFixtures> {
  const policyFiles = {} as Record<PolicySize, string>;
  const allowedFrame = {} as Record<PolicySize, string>;
  const allowed = {} as Record<PolicySize, CheckMessageOptions>;
  let policies1k: Policy[] = [];
  const rules = policySizes(smoke);
  for (const size of ['small', 'mid', 'large'] as const) {
    const workload = workloadFor(rules[size]);
    const policies = generatePolicies(workload);
    if (size === 'mid') policies1k = policies;
    policyFiles[size] = write(dir, `policies-${rules[size]}.yaml`, policiesYaml(policies));
    allowed[size] = allowedRequest(policies, workload);
    allowedFrame[size] = write(dir, `allowed-${rules[size]}.bin`, checkRequestFrame(allowed[size]));
  }
  const distinctCount = smoke ? 200 : 20_000;
  const distinctFrames = write(dir, 'distinct-1000.bin', Buffer.concat(distinctRequests(policies1k, distinctCount).map(checkRequestFrame)));

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const bundle = write(dir, 'bundle.json', JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'jwt-svid' }] }));
  const subject = allowed.mid;
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sign = (jti: string) =>
    new SignJWT({ sub: subject.principal, aud: 'meshwarden', exp, jti }).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' }).sign(privateKey);
  const withToken = (token: string): CheckMessageOptions => {
    const { principal: _mtls, ...rest } = subject;
    return { ...rest, headers: { ...(subject.headers ?? {}), authorization: `Bearer ${token}` } };
  };
  const jwtFrame = write(dir, 'jwt-one.bin', checkRequestFrame(withToken(await sign('one'))));
  const tokenCount = smoke ? 100 : 2_000;
  const tokens = await Promise.all(Array.from({ length: tokenCount }, (_, i) => sign(`t${i}`)));
  const jwtFrames = write(dir, 'jwt-distinct.bin', Buffer.concat(tokens.map((t) => checkRequestFrame(withToken(t)))));
  return { dir, rules, policyFiles, allowedFrame, distinctFrames, jwtFrame, jwtFrames, bundle, distinctCount, tokenCount };
}

/** The first generated request the set allows: the hot path does full work, and says allow. */
export function allowedRequest(policies: readonly Policy[], workload: ReturnType<typeof workloadFor>): CheckMessageOptions {
  const tree = compileTree(policies, ENGINE_OPTIONS);
  const found = generateRequests(policies, workload, 2_000).find((c) => tree.evaluate(c.subject, c.request).effect === 'allow');
  if (found === undefined) throw new Error(`no allowed request in the ${tree.stats.rules}-rule set`);
  const { request } = found;
  const tenant = request.headers.get('x-tenant');
  return {
    principal: found.subject.workload!.uri,
    method: request.method,
    path: request.path,
    host: request.host,
    service: request.contextExtensions.get('service')!,
    ...(tenant ? { headers: { 'x-tenant': tenant } } : {}),
  };
}

function write(dir: string, name: string, content: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}
