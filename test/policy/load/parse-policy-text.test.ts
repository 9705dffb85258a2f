import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parsePolicyText, type PolicyErrorCode } from '../../../src/policy/load/index.js';
import type { Policy } from '../../../src/policy/model.js';

const OPTIONS = { rootNamespace: 'istio-system' };
const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/policies/${name}`, import.meta.url), 'utf8');

function only(text: string): Policy {
  const result = parsePolicyText(text, 'p.yaml', OPTIONS);
  expect(result.errors).toEqual([]);
  expect(result.policies).toHaveLength(1);
  return result.policies[0]!;
}

function istio(apiVersion: string, metadata: string, spec: string): string {
  return `apiVersion: ${apiVersion}\nkind: AuthorizationPolicy\nmetadata: ${metadata}\nspec: ${spec}\n`;
}

describe('Istio policies map into the model with Istio meaning', () => {
  test.each(['security.istio.io/v1', 'security.istio.io/v1beta1'])('apiVersion %s is accepted', (apiVersion) => {
    const policy = only(istio(apiVersion, '{ name: web, namespace: shop }', '{ action: DENY, rules: [{}] }'));
    expect(policy).toMatchObject({ id: 'shop/web', name: 'web', format: 'istio', action: 'DENY', mode: 'enforce' });
  });

  test.each([
    { metadata: '{ name: p, namespace: shop }', scope: { namespace: 'shop' } },
    { metadata: '{ name: p }', scope: { namespace: 'default' } },
    { metadata: '{ name: p, namespace: istio-system }', scope: {} },
  ])('metadata $metadata gives scope $scope', ({ metadata, scope }) => {
    expect(only(istio('security.istio.io/v1', metadata, '{ rules: [{}] }')).scope).toEqual(scope);
  });

  test('the root namespace comes from the options', () => {
    const text = istio('security.istio.io/v1', '{ name: p, namespace: mesh-root }', '{}');
    expect(parsePolicyText(text, 'p.yaml', { rootNamespace: 'mesh-root' }).policies[0]!.scope).toEqual({});
  });

  test('spec: {} is an ALLOW with no rules, which allows nothing', () => {
    expect(only(istio('security.istio.io/v1', '{ name: deny-all, namespace: shop }', '{}'))).toMatchObject({ action: 'ALLOW', rules: [] });
  });

  test('an ALLOW with no rules field allows nothing, and raises no warning', () => {
    const result = parsePolicyText(istio('security.istio.io/v1', '{ name: p }', '{ action: ALLOW }'), 'p.yaml', OPTIONS);
    expect(result.policies[0]!.rules).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  test.each([
    { value: '"true"', mode: 'dry-run' },
    { value: '"false"', mode: 'enforce' },
  ])('the istio.io/dry-run annotation $value gives mode $mode', ({ value, mode }) => {
    const metadata = `{ name: p, annotations: { istio.io/dry-run: ${value} } }`;
    expect(only(istio('security.istio.io/v1', metadata, '{}')).mode).toBe(mode);
  });

  test('matchLabels become the scope selector; an empty one selects everything', () => {
    const withLabels = istio('security.istio.io/v1', '{ name: p, namespace: shop }', '{ action: DENY, selector: { matchLabels: { app: web } } }');
    expect(only(withLabels).scope).toEqual({ namespace: 'shop', selector: { app: 'web' } });
    const empty = istio('security.istio.io/v1', '{ name: p, namespace: shop }', '{ action: DENY, selector: { matchLabels: {} } }');
    expect(only(empty).scope).toEqual({ namespace: 'shop' });
  });

  test('Kubernetes metadata and status written by kubectl are accepted', () => {
    const metadata = '{ name: p, uid: x, resourceVersion: "1", generation: 2, creationTimestamp: null, labels: { a: b } }';
    const text = `${istio('security.istio.io/v1', metadata, '{}')}status: {}\n`;
    expect(only(text).id).toBe('default/p');
  });
});

describe('warnings', () => {
  const cases: readonly { spec: string; code: PolicyErrorCode; at: string; field: string }[] = [
    { spec: '{ selector: { matchLabels: { app: web } } }', code: 'selector_allow_scoped', at: '4:9', field: 'spec.selector' },
    { spec: '{ action: DENY, selector: { matchLabels: { app: web } } }', code: 'selector_deny_unscoped', at: '4:23', field: 'spec.selector' },
    { spec: '{ action: DENY, targetRef: { kind: Gateway, name: gw } }', code: 'target_ref_unsupported', at: '4:23', field: 'spec.targetRef' },
  ];
  test.each(cases)('$code is a warning at $at', ({ spec, code, at, field }) => {
    const result = parsePolicyText(istio('security.istio.io/v1', '{ name: p }', spec), 'p.yaml', OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies).toHaveLength(1);
    expect(result.warnings.map((w) => [w.code, `${w.line}:${w.column}`, w.field])).toEqual([[code, at, field]]);
  });

  test.each([
    ['{ targetRef: { kind: Gateway, name: gw } }', 'spec.targetRef'],
    ['{ action: AUDIT, targetRefs: [{ kind: Service, name: web }] }', 'spec.targetRefs'],
  ])('an ALLOW or AUDIT with targetRef is refused, since ignoring it would widen the policy: %s', (spec, field) => {
    const result = parsePolicyText(istio('security.istio.io/v1', '{ name: p }', spec), 'p.yaml', OPTIONS);
    expect(result.policies).toEqual([]);
    expect(result.errors.map((e) => [e.code, e.field])).toEqual([['target_ref_unsupported', field]]);
  });

  test('a native policy without rules warns that it matches nothing', () => {
    const text = 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec:\n  action: DENY\n';
    const result = parsePolicyText(text, 'p.yaml', OPTIONS);
    expect(result.warnings.map((w) => [w.code, w.line, w.field])).toEqual([['no_rules', 5, 'spec']]);
  });

  test('a file with only comments warns that it holds no policy', () => {
    const result = parsePolicyText('# nothing yet\n---\n', 'p.yaml', OPTIONS);
    expect(result.warnings.map((w) => [w.code, w.line])).toEqual([['empty_file', 0]]);
  });
});

describe('native policies', () => {
  test('the DESIGN example loads with its fields as written', () => {
    const policy = only(fixture('native/payments.yaml'));
    expect(policy).toMatchObject({ id: 'payments-api', format: 'meshwarden', action: 'ALLOW', mode: 'enforce', scope: { services: ['payments'] } });
    expect(policy.rules[0]!.to![0]!.ports).toEqual(['8080']);
    expect(policy.rules[0]!.when).toEqual([
      { key: 'request.headers[x-tenant]', values: ['acme'] },
      { key: 'request.auth.claims[scope]', values: ['charges:write'] },
    ]);
  });

  test('JSON is read too, with positions', () => {
    const policy = only(fixture('native/payments.json'));
    expect(policy).toMatchObject({ id: 'payments-deny-refunds', action: 'DENY', mode: 'dry-run', origin: { line: 1, column: 1 } });
  });

  test('action and mode default to ALLOW and enforce', () => {
    const text = 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec: { rules: [{}] }\n';
    expect(only(text)).toMatchObject({ action: 'ALLOW', mode: 'enforce', scope: {}, rules: [{}] });
  });
});

describe('the loaded values', () => {
  test('are frozen all the way down', () => {
    const policy = only(fixture('native/payments.yaml'));
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.rules[0]!.from![0]!.principals)).toBe(true);
    expect(Object.isFrozen(policy.scope.services)).toBe(true);
  });

  test('header names in condition keys and hosts are lower-cased, and integer ports become text', () => {
    const text = 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec:\n  rules:\n    - to: [{ operation: { ports: [443], hosts: [API.Example] } }]\n      when: [{ key: "request.headers[X-Tenant]", values: [Acme] }]\n';
    const rule = only(text).rules[0]!;
    expect(rule.to![0]).toEqual({ ports: ['443'], hosts: ['api.example'] });
    expect(rule.when![0]).toEqual({ key: 'request.headers[x-tenant]', values: ['Acme'] });
  });

  test('each document records its file, index and start', () => {
    const text = '# leading comment\n---\n---\napiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: a }\nspec: { rules: [{}] }\n---\n  apiVersion: meshwarden.io/v1\n  kind: AuthorizationPolicy\n  metadata: { name: b }\n';
    const result = parsePolicyText(text, 'multi.yaml', OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies.map((p) => p.origin)).toEqual([
      { file: 'multi.yaml', document: 1, line: 4, column: 1 },
      { file: 'multi.yaml', document: 2, line: 9, column: 3 },
    ]);
  });
});

describe('reporting', () => {
  test('all the errors of a file are reported, in reading order', () => {
    const { errors, policies } = parsePolicyText(fixture('invalid/many-errors.yaml'), 'many-errors.yaml', OPTIONS);
    expect(policies).toEqual([]);
    expect(errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.field}`)).toEqual([
      '6:11 invalid_value spec.action',
      '10:13 unknown_field spec.rules[0].from[0].source.princpals',
      '11:24 invalid_ip_block spec.rules[0].from[0].source.ipBlocks[0]',
      '14:23 invalid_method spec.rules[0].to[0].operation.methods[0]',
      '15:21 invalid_path_template spec.rules[0].to[0].operation.paths[0]',
      '16:21 invalid_port spec.rules[0].to[0].operation.ports[0]',
      '18:11 condition_without_values spec.rules[0].when[0]',
    ]);
  });

  test('errors in one document do not hide the policies of the others', () => {
    const good = 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: good }\nspec: { rules: [{}] }\n';
    const result = parsePolicyText(`${good}---\napiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: bad }\nspec: { mode: shadow }\n`, 'p.yaml', OPTIONS);
    expect(result.policies.map((p) => p.id)).toEqual(['good']);
    expect(result.errors.map((e) => [e.code, e.line])).toEqual([['invalid_value', 9]]);
  });

  test('an unknown field suggests the closest known one', () => {
    const text = 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec: { acton: DENY }\n';
    expect(parsePolicyText(text, 'p.yaml', OPTIONS).errors[0]!.message).toBe('unknown field "acton"; did you mean "action"?');
  });

  test('misused options are a TypeError, not a policy error', () => {
    expect(() => parsePolicyText('', 'p.yaml', { rootNamespace: '' })).toThrow(TypeError);
  });
});
