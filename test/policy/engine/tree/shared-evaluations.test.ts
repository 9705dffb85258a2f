import { describe, expect, it } from 'vitest';
import { compileTree } from '../../../../src/policy/engine/index.js';
import { BILLING, CHECKOUT, DENY_BY_DEFAULT, policy, request, subject } from '../fixtures.js';

const tree = compileTree(
  [
    policy({ id: 'allow-checkout', scope: { services: ['payments'] }, rules: [{ from: [{ principals: [CHECKOUT] }] }] }),
    policy({ id: 'audit-all', action: 'AUDIT', rules: [{ to: [{ paths: ['/audit'] }] }] }),
  ],
  DENY_BY_DEFAULT,
);
const toPayments = (path = '/') => request({ path, context: { service: 'payments' } });

describe('the Evaluations a DecisionTree returns', () => {
  it('are one frozen object per deciding rule, shared by every request that rule decides', () => {
    const first = tree.evaluate(subject(CHECKOUT), toPayments('/a'));
    const second = tree.evaluate(subject(CHECKOUT), toPayments('/b'));
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toStrictEqual({ effect: 'allow', reason: 'policy_allow', by: { policy: 'allow-checkout', rule: 0 } });
  });

  it('share the default outcome too', () => {
    const denied = tree.evaluate(subject(BILLING), toPayments());
    expect(tree.evaluate(subject(BILLING), toPayments('/x'))).toBe(denied);
    expect(denied).toStrictEqual({ effect: 'deny', reason: 'default_deny' });
  });

  it('are built per call when they name more than one rule (an audit mark), and do not leak into the next call', () => {
    const audited = tree.evaluate(subject(CHECKOUT), toPayments('/audit'));
    expect(audited).toStrictEqual({
      effect: 'allow', reason: 'policy_allow', by: { policy: 'allow-checkout', rule: 0 }, audit: { policy: 'audit-all', rule: 0 },
    });
    expect(tree.evaluate(subject(CHECKOUT), toPayments('/a'))).not.toHaveProperty('audit');
  });
});
