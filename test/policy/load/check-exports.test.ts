// `meshwarden check` on what operators have at hand: `kubectl get authorizationpolicies -o yaml`
// (a List) and folders of manifests where policies sit beside other objects.
import { describe, expect, test } from 'vitest';
import { parsePolicyText, type ParseResult } from '../../../src/policy/load/index.js';

const OPTIONS = { rootNamespace: 'istio-system' };

const EXPORT = `apiVersion: v1
kind: List
items:
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: orders, namespace: shop }
  spec:
    action: ALLOW
    rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/frontend"] } }] }]
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: { name: ext-authz, namespace: shop }
  spec:
    action: CUSTOM
    provider: { name: meshwarden }
    rules: [{}]
- apiVersion: security.istio.io/v1
  kind: PeerAuthentication
  metadata: { name: default, namespace: istio-system }
  spec: { mtls: { mode: STRICT } }
metadata:
  resourceVersion: ""
`;

const where = (r: ParseResult, kind: 'errors' | 'warnings') => r[kind].map((e) => `${e.line}:${e.column} ${e.code} ${e.field}`);

describe('a kubectl export (kind: List)', () => {
  test('is read item by item: its policies load, the CUSTOM policy and other kinds are skipped with one warning each', () => {
    const result = parsePolicyText(EXPORT, 'export.yaml', OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies.map((p) => p.id)).toEqual(['shop/orders']);
    expect(where(result, 'warnings')).toEqual(['14:13 custom_action_not_applicable items[1].spec.action', '18:9 not_a_policy items[2].kind']);
    expect(result.warnings[1]!.message).toBe('PeerAuthentication "default" (security.istio.io/v1) is not an authorization policy: skipped');
  });

  test('--strict keeps what is skipped an error', () => {
    const result = parsePolicyText(EXPORT, 'export.yaml', { ...OPTIONS, strict: true });
    expect(where(result, 'errors')).toEqual(['14:13 custom_action_not_applicable items[1].spec.action', '18:9 not_a_policy items[2].kind']);
  });

  test('an error inside an item names the item, at its line', () => {
    const text = EXPORT.replace('action: ALLOW', 'action: ALOW');
    expect(where(parsePolicyText(text, 'export.yaml', OPTIONS), 'errors')).toEqual(['8:13 invalid_value items[0].spec.action']);
  });
});

describe('a file of manifests', () => {
  test.each([
    { what: 'a Deployment', text: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\n', message: 'Deployment "web" (apps/v1) is not an authorization policy: skipped' },
    { what: 'Helm values', text: 'meshConfig:\n  extensionProviders: []\n', message: 'a mapping without apiVersion, kind, metadata or spec (not a Kubernetes object) is not an authorization policy: skipped' },
  ])('skips $what with a warning', ({ text, message }) => {
    const result = parsePolicyText(text, 'm.yaml', OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual([message]);
  });

  test.each([
    { what: 'a kind close to AuthorizationPolicy (a typo)', text: 'apiVersion: security.istio.io/v1\nkind: AuthorisationPolicy\nmetadata: { name: p }\nspec: {}\n', code: 'unknown_kind' },
    { what: "another kind in meshwarden's own group", text: 'apiVersion: meshwarden.io/v1\nkind: Policy\nmetadata: { name: p }\nspec: {}\n', code: 'unknown_kind' },
    { what: 'a policy without its envelope', text: 'metadata: { name: p }\nspec: { action: DENY }\n', code: 'missing_field' },
  ])('still refuses $what: a policy meant, and mistyped, must not be skipped', ({ text, code }) => {
    expect(parsePolicyText(text, 'm.yaml', OPTIONS).errors.map((e) => e.code)).toContain(code);
  });
});
