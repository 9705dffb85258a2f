import { describe, expect, it } from 'vitest';
import type { PolicyScope } from '../../../src/policy/model.js';
import type { PolicyAction } from '../../../src/policy/model.js';
import { decide } from './check-both.js';
import { ALLOW_BY_DEFAULT, policy, request, subject, type RequestSpec } from './fixtures.js';

/** Whether a policy of `action` with `scope` applies: a matching ALLOW allows, a DENY denies. */
function checkScope(action: PolicyAction, scope: PolicyScope, spec: RequestSpec, expected: boolean): void {
  const evaluation = decide([policy({ id: 'p', action, scope })], ALLOW_BY_DEFAULT, subject(), request(spec));
  const applied = action === 'DENY' ? evaluation.reason === 'policy_deny' : evaluation.reason === 'policy_allow';
  expect(applied).toBe(expected);
}

describe('policy scope', () => {
  it.each([
    ['an unscoped policy applies everywhere', 'ALLOW', {}, {}, true],
    ['services: the context extension names the service', 'ALLOW', { services: ['payments'] }, { context: { service: 'payments' } }, true],
    ['services: another service', 'ALLOW', { services: ['payments'] }, { context: { service: 'ledger' } }, false],
    ['services: any of several', 'ALLOW', { services: ['ledger', 'payments'] }, { context: { service: 'payments' } }, true],
    ['services: a pattern', 'ALLOW', { services: ['pay*'] }, { context: { service: 'payments' } }, true],
    ['services: from the destination SPIFFE ID', 'ALLOW', { services: ['payments'] }, { host: '', destination: { principal: 'spiffe://td/ns/prod/sa/payments' } }, true],
    ['services: from the host last', 'ALLOW', { services: ['payments.prod.svc'] }, {}, true],
    ['namespace must equal', 'ALLOW', { namespace: 'prod' }, { context: { namespace: 'prod' } }, true],
    ['namespace from the destination SPIFFE ID', 'ALLOW', { namespace: 'prod' }, { destination: { principal: 'spiffe://td/ns/prod/sa/x' } }, true],
    ['another namespace', 'ALLOW', { namespace: 'prod' }, { context: { namespace: 'dev' } }, false],
    ['an unknown namespace', 'DENY', { namespace: 'prod' }, {}, false],
    ['the root namespace applies everywhere', 'ALLOW', { namespace: 'istio-system' }, { context: { namespace: 'dev' } }, true],
    ['namespace and services together', 'ALLOW', { namespace: 'prod', services: ['payments'] }, { context: { namespace: 'prod', service: 'ledger' } }, false],
    ['selector: every label equal', 'ALLOW', { selector: { app: 'pay', version: 'v1' } }, { context: { app: 'pay', version: 'v1' } }, true],
    ['selector: one label differs', 'ALLOW', { selector: { app: 'pay', version: 'v1' } }, { context: { app: 'pay', version: 'v2' } }, false],
    ['selector: one label missing', 'DENY', { selector: { app: 'pay', version: 'v1' } }, { context: { app: 'pay' } }, false],
    ['selector: none present, an ALLOW does not apply (safe side)', 'ALLOW', { selector: { app: 'pay' } }, {}, false],
    ['selector: none present, an AUDIT does not apply', 'AUDIT', { selector: { app: 'pay' } }, {}, false],
    ['selector: none present, a DENY applies (safe side)', 'DENY', { selector: { app: 'pay' } }, {}, true],
    ['selector: present but different, a DENY does not apply', 'DENY', { selector: { app: 'pay' } }, { context: { app: 'web' } }, false],
  ] as const)('%s', (_name, action, scope, spec, expected) => {
    if (action === 'AUDIT') {
      const evaluation = decide([policy({ id: 'p', action, scope })], ALLOW_BY_DEFAULT, subject(), request(spec));
      expect(evaluation.audit !== undefined).toBe(expected);
      return;
    }
    checkScope(action, scope, spec, expected);
  });
});
