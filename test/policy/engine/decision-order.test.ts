import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../../src/policy/evaluation.js';
import type { Policy } from '../../../src/policy/model.js';
import { decide } from './check-both.js';
import { ALLOW_BY_DEFAULT, BATCH, CHECKOUT, DENY_BY_DEFAULT, policy, request, subject } from './fixtures.js';

const fromCheckout = [{ from: [{ principals: [CHECKOUT] }] }];
const allowCheckout = policy({ id: 'allow-checkout', action: 'ALLOW', rules: fromCheckout });
const denyCheckout = policy({ id: 'deny-checkout', action: 'DENY', rules: fromCheckout });
const denyEveryone = policy({ id: 'z-deny-all', action: 'DENY', rules: [{}] });
const auditCheckout = policy({ id: 'audit-checkout', action: 'AUDIT', rules: fromCheckout });

interface Case {
  readonly name: string;
  readonly policies: readonly Policy[];
  readonly defaultAction: 'ALLOW' | 'DENY';
  readonly caller?: string;
  readonly expected: Evaluation;
}

const cases: readonly Case[] = [
  { name: 'no policies and default DENY denies', policies: [], defaultAction: 'DENY', expected: { effect: 'deny', reason: 'default_deny' } },
  { name: 'no policies and default ALLOW allows', policies: [], defaultAction: 'ALLOW', expected: { effect: 'allow', reason: 'default_allow' } },
  {
    name: 'a matching ALLOW allows and names its rule',
    policies: [allowCheckout], defaultAction: 'DENY', caller: CHECKOUT,
    expected: { effect: 'allow', reason: 'policy_allow', by: { policy: 'allow-checkout', rule: 0 } },
  },
  {
    name: 'DENY wins over ALLOW',
    policies: [allowCheckout, denyCheckout], defaultAction: 'ALLOW', caller: CHECKOUT,
    expected: { effect: 'deny', reason: 'policy_deny', by: { policy: 'deny-checkout', rule: 0 } },
  },
  {
    name: 'the first DENY in policy id order decides',
    policies: [denyEveryone, denyCheckout], defaultAction: 'DENY', caller: CHECKOUT,
    expected: { effect: 'deny', reason: 'policy_deny', by: { policy: 'deny-checkout', rule: 0 } },
  },
  {
    name: 'ALLOWs that apply but do not match deny even with default ALLOW (Istio)',
    policies: [allowCheckout], defaultAction: 'ALLOW', caller: BATCH,
    expected: { effect: 'deny', reason: 'default_deny' },
  },
  {
    name: 'an ALLOW with no rules applies and allows nothing',
    policies: [policy({ id: 'empty', rules: [] })], defaultAction: 'ALLOW', caller: CHECKOUT,
    expected: { effect: 'deny', reason: 'default_deny' },
  },
  {
    name: 'a DENY that does not match leaves the default ALLOW',
    policies: [denyCheckout], defaultAction: 'ALLOW', caller: BATCH,
    expected: { effect: 'allow', reason: 'default_allow' },
  },
  {
    name: 'a matching AUDIT marks the decision without changing it',
    policies: [auditCheckout, allowCheckout], defaultAction: 'DENY', caller: CHECKOUT,
    expected: { effect: 'allow', reason: 'policy_allow', by: { policy: 'allow-checkout', rule: 0 }, audit: { policy: 'audit-checkout', rule: 0 } },
  },
  {
    name: 'an AUDIT alone does not count as an ALLOW',
    policies: [auditCheckout], defaultAction: 'ALLOW', caller: CHECKOUT,
    expected: { effect: 'allow', reason: 'default_allow', audit: { policy: 'audit-checkout', rule: 0 } },
  },
  {
    name: 'a dry-run DENY is reported, never enforced',
    policies: [allowCheckout, { ...denyCheckout, mode: 'dry-run' }], defaultAction: 'DENY', caller: CHECKOUT,
    expected: {
      effect: 'allow', reason: 'policy_allow', by: { policy: 'allow-checkout', rule: 0 },
      dryRun: { verdict: 'deny', by: { policy: 'deny-checkout', rule: 0 } },
    },
  },
  {
    name: 'a dry-run ALLOW that does not match reports the deny it would cause',
    policies: [{ ...allowCheckout, mode: 'dry-run' }], defaultAction: 'ALLOW', caller: BATCH,
    expected: { effect: 'allow', reason: 'default_allow', dryRun: { verdict: 'deny' } },
  },
  {
    name: 'a dry-run AUDIT that applies reports the enforced outcome as its dry-run',
    policies: [{ ...auditCheckout, mode: 'dry-run' }], defaultAction: 'DENY', caller: CHECKOUT,
    expected: { effect: 'deny', reason: 'default_deny', dryRun: { verdict: 'deny' } },
  },
  {
    name: 'the first matching rule within a policy names the rule index',
    policies: [policy({ id: 'p', rules: [{ from: [{ principals: [BATCH] }] }, { from: [{ namespaces: ['checkout'] }] }, {}] })],
    defaultAction: 'DENY', caller: CHECKOUT,
    expected: { effect: 'allow', reason: 'policy_allow', by: { policy: 'p', rule: 1 } },
  },
];

describe('decision order', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const options = c.defaultAction === 'DENY' ? DENY_BY_DEFAULT : ALLOW_BY_DEFAULT;
    expect(decide(c.policies, options, subject(c.caller), request())).toStrictEqual(c.expected);
  });
});
