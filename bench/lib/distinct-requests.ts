/**
 * Many distinct requests in a policy set's vocabulary, for the cache-miss path: like
 * policy-set's generateRequests, but every template and prefix path gets a segment of its
 * own per request, so decision-cache keys differ while the rules still match.
 */
import type { Policy } from '../../src/policy/model.js';
import type { CheckMessageOptions } from './grpc-frame.js';
import { random } from './policy-set.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

export function distinctRequests(policies: readonly Policy[], count: number, seed = 3): CheckMessageOptions[] {
  const rnd = random(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const out: CheckMessageOptions[] = [];
  for (let i = 0; i < count; i += 1) {
    const policy = policies[pick(policies.length - 2)]!; // the last two are mesh-wide guards
    const rule = policy.rules[pick(policy.rules.length)]!;
    const principals = policies[pick(policies.length - 2)]!.rules[0]!.from![0]!.principals!;
    const principal = rnd() < 0.7 ? rule.from![0]!.principals![0]! : principals[0]!;
    const path = rule.to![0]!.paths![0]!.replace('{*}', `x${i}`).replace('{**}', `a/${i}`).replace('*', `t${i}`);
    const service = policy.scope.services![0]!;
    out.push({
      principal, method: METHODS[pick(4)]!, path, host: `${service}.prod.svc`, service,
      ...(rnd() < 0.5 ? { headers: { 'x-tenant': 'acme' } } : {}),
    });
  }
  return out;
}
