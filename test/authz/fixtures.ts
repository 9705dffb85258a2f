/** One policy snapshot for the pipeline's tests: checkout may GET from payments, nothing else is allowed. */
import { expect } from 'vitest';
import { compileTree } from '../../src/policy/engine/index.js';
import { parsePolicyText } from '../../src/policy/load/index.js';
import type { PolicySnapshot } from '../../src/policy/snapshot.js';

export const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const ENGINE = { defaultAction: 'DENY', rootNamespace: 'istio-system' } as const;
const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: payments }
spec:
  target: { services: [payments] }
  rules:
    - from: [{ source: { principals: ["${CHECKOUT}"] } }]
      to: [{ operation: { methods: [GET] } }]
`;

export function snapshot(generation = 1): PolicySnapshot {
  const { policies, errors } = parsePolicyText(POLICY, 'p.yaml', ENGINE);
  expect(errors).toEqual([]);
  return {
    generation,
    tree: compileTree(policies, ENGINE),
    policies,
    files: [],
    hash: 'h',
    policyCount: 1,
    ruleCount: 1,
    loadedAt: 0,
    options: ENGINE,
  };
}
