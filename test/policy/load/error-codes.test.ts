import { describe, expect, test } from 'vitest';
import { parsePolicyText, type PolicyErrorCode } from '../../../src/policy/load/index.js';

const OPTIONS = { rootNamespace: 'istio-system' };

/** A native policy whose spec starts on line 5: the `spec` lines below are lines 5, 6, … */
function native(spec: string): string {
  return `apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec:\n${spec}`;
}

/** An Istio policy: `metadata:` is line 3; with the default metadata, `spec:` is line 6. */
function istio(spec: string, metadata = '  name: p\n  namespace: shop'): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n${metadata}\nspec:\n${spec}`;
}

interface Case {
  readonly name: string;
  readonly text: string;
  readonly code: PolicyErrorCode;
  readonly at: string; // line:column
  readonly field: string;
}

const CASES: readonly Case[] = [
  { name: 'a YAML syntax error', text: 'apiVersion: [unclosed\n', code: 'yaml_syntax', at: '2:1', field: '' },
  { name: 'a key written twice', text: native('  action: ALLOW\n  action: DENY\n'), code: 'duplicate_key', at: '6:3', field: '' },
  { name: 'an unknown apiVersion', text: 'apiVersion: security.istio.io/v2\nkind: AuthorizationPolicy\n', code: 'unknown_api_version', at: '1:13', field: 'apiVersion' },
  { name: 'an unknown kind', text: 'apiVersion: meshwarden.io/v1\nkind: Policy\n', code: 'unknown_kind', at: '2:7', field: 'kind' },
  { name: 'an unknown field, at its key', text: native('  rules:\n    - from:\n        - source:\n            princpals: ["a/b"]\n'), code: 'unknown_field', at: '8:13', field: 'spec.rules[0].from[0].source.princpals' },
  { name: 'an Istio field meshwarden does not implement', text: istio('  rules:\n    - from:\n        - source:\n            serviceAccounts: ["shop/web"]\n'), code: 'unsupported_field', at: '10:13', field: 'spec.rules[0].from[0].source.serviceAccounts' },
  { name: 'a missing metadata.name, at its parent', text: 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  labels: {}\n', code: 'missing_field', at: '4:3', field: 'metadata.name' },
  { name: 'a value of the wrong type', text: native('  rules: { from: [] }\n'), code: 'wrong_type', at: '5:10', field: 'spec.rules' },
  { name: 'an action that does not exist', text: native('  action: ALOW\n'), code: 'invalid_value', at: '5:11', field: 'spec.action' },
  { name: 'a name that is not a Kubernetes name', text: 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: Bad_Name }\n', code: 'invalid_value', at: '3:19', field: 'metadata.name' },
  { name: 'an empty list', text: native('  rules:\n    - to: []\n'), code: 'empty_value', at: '6:11', field: 'spec.rules[0].to' },
  { name: 'an empty source', text: native('  rules:\n    - from:\n        - source: {}\n'), code: 'empty_value', at: '7:19', field: 'spec.rules[0].from[0].source' },
  { name: 'action CUSTOM', text: istio('  action: CUSTOM\n  provider: { name: meshwarden }\n'), code: 'custom_action_not_applicable', at: '7:11', field: 'spec.action' },
  { name: 'a provider without CUSTOM', text: istio('  provider: { name: meshwarden }\n'), code: 'invalid_value', at: '7:3', field: 'spec.provider' },
  { name: 'a dry-run annotation that is not true or false', text: istio('  rules: []\n', '  name: p\n  annotations: { istio.io/dry-run: "yes" }'), code: 'invalid_annotation', at: '5:36', field: 'metadata.annotations["istio.io/dry-run"]' },
  { name: 'an unknown condition key', text: native('  rules:\n    - when:\n        - key: request.path\n          values: ["/"]\n'), code: 'invalid_condition_key', at: '7:16', field: 'spec.rules[0].when[0].key' },
  { name: 'a condition key with an empty claim', text: native('  rules:\n    - when:\n        - key: request.auth.claims[a][]\n          values: ["x"]\n'), code: 'invalid_condition_key', at: '7:16', field: 'spec.rules[0].when[0].key' },
  { name: 'a body key left open', text: native('  rules:\n    - when:\n        - key: "request.body.json["\n          values: ["x"]\n'), code: 'invalid_condition_key', at: '7:16', field: 'spec.rules[0].when[0].key' },
  { name: 'a body key with an empty name', text: native('  rules:\n    - when:\n        - key: request.body.json[order][]\n          values: ["x"]\n'), code: 'invalid_condition_key', at: '7:16', field: 'spec.rules[0].when[0].key' },
  { name: 'a body value with a * in the middle', text: native('  rules:\n    - when:\n        - key: request.body.json[amount]\n          values: ["1*0"]\n'), code: 'invalid_string_match', at: '8:20', field: 'spec.rules[0].when[0].values[0]' },
  { name: 'a condition without values', text: native('  rules:\n    - when:\n        - key: source.ip\n'), code: 'condition_without_values', at: '7:11', field: 'spec.rules[0].when[0]' },
  { name: 'an invalid CIDR in ipBlocks', text: native('  rules:\n    - from:\n        - source: { ipBlocks: ["10.0.0.0/33"] }\n'), code: 'invalid_ip_block', at: '7:32', field: 'spec.rules[0].from[0].source.ipBlocks[0]' },
  { name: 'an invalid IPv6 in notRemoteIpBlocks', text: native('  rules:\n    - from:\n        - source: { notRemoteIpBlocks: ["fd00:::1"] }\n'), code: 'invalid_ip_block', at: '7:41', field: 'spec.rules[0].from[0].source.notRemoteIpBlocks[0]' },
  { name: 'an invalid IP in a source.ip condition', text: native('  rules:\n    - when:\n        - key: source.ip\n          values: ["1.2.3"]\n'), code: 'invalid_ip_block', at: '8:20', field: 'spec.rules[0].when[0].values[0]' },
  { name: 'a port out of range', text: native('  rules:\n    - to:\n        - operation: { ports: ["8080", 70000] }\n'), code: 'invalid_port', at: '7:40', field: 'spec.rules[0].to[0].operation.ports[1]' },
  { name: 'a non-numeric destination.port', text: native('  rules:\n    - when:\n        - key: destination.port\n          notValues: ["http"]\n'), code: 'invalid_port', at: '8:23', field: 'spec.rules[0].when[0].notValues[0]' },
  { name: 'a lower-case method', text: native('  rules:\n    - to:\n        - operation: { methods: ["get"] }\n'), code: 'invalid_method', at: '7:34', field: 'spec.rules[0].to[0].operation.methods[0]' },
  { name: 'a host with a port', text: native('  rules:\n    - to:\n        - operation: { hosts: ["api.example:8080"] }\n'), code: 'invalid_host', at: '7:32', field: 'spec.rules[0].to[0].operation.hosts[0]' },
  { name: 'a host with a trailing dot', text: native('  rules:\n    - to:\n        - operation: { notHosts: ["api.example."] }\n'), code: 'invalid_host', at: '7:35', field: 'spec.rules[0].to[0].operation.notHosts[0]' },
  { name: 'a path without a leading slash', text: native('  rules:\n    - to:\n        - operation: { paths: ["v1/charges"] }\n'), code: 'invalid_path', at: '7:32', field: 'spec.rules[0].to[0].operation.paths[0]' },
  { name: '{**} before the last segment', text: native('  rules:\n    - to:\n        - operation: { notPaths: ["/a/{**}/b"] }\n'), code: 'invalid_path_template', at: '7:35', field: 'spec.rules[0].to[0].operation.notPaths[0]' },
  { name: 'a template that is not a whole segment', text: native('  rules:\n    - to:\n        - operation: { paths: ["/a/x{*}"] }\n'), code: 'invalid_path_template', at: '7:32', field: 'spec.rules[0].to[0].operation.paths[0]' },
  { name: 'a path mixing * with templates', text: native('  rules:\n    - to:\n        - operation: { paths: ["/a/{*}/b*"] }\n'), code: 'invalid_path_template', at: '7:32', field: 'spec.rules[0].to[0].operation.paths[0]' },
  { name: 'a path with a dot segment', text: native('  rules:\n    - to:\n        - operation: { paths: ["/a/../admin"] }\n'), code: 'non_canonical_path', at: '7:32', field: 'spec.rules[0].to[0].operation.paths[0]' },
  { name: 'a * in the middle of a host', text: native('  rules:\n    - to:\n        - operation: { hosts: ["api.*.example"] }\n'), code: 'invalid_string_match', at: '7:32', field: 'spec.rules[0].to[0].operation.hosts[0]' },
  { name: 'two * in a namespace', text: native('  rules:\n    - from:\n        - source: { namespaces: ["*shop*"] }\n'), code: 'invalid_string_match', at: '7:34', field: 'spec.rules[0].from[0].source.namespaces[0]' },
  { name: 'a principal that is not a SPIFFE ID', text: native('  rules:\n    - from:\n        - source: { principals: ["spiffe://Prod.example/ns/a/sa/b"] }\n'), code: 'invalid_principal', at: '7:34', field: 'spec.rules[0].from[0].source.principals[0]' },
  { name: 'an Istio-form principal with an empty segment', text: native('  rules:\n    - from:\n        - source: { notPrincipals: ["cluster.local/ns//sa/b"] }\n'), code: 'invalid_principal', at: '7:37', field: 'spec.rules[0].from[0].source.notPrincipals[0]' },
  { name: 'a second policy with the same id', text: `${native('  rules: [{}]\n')}---\n${native('  rules: [{}]\n')}`, code: 'duplicate_policy_id', at: '9:19', field: 'metadata.name' },
];

describe('every error code names the file, line, column and field of the offending node', () => {
  test.each(CASES)('$name is $code at $at', ({ text, code, at, field }) => {
    // strict: an Istio CUSTOM policy is otherwise skipped with a warning (check-exports.test.ts)
    const { errors } = parsePolicyText(text, 'p.yaml', { ...OPTIONS, strict: true });
    expect(errors.map((e) => ({ code: e.code, at: `${e.line}:${e.column}`, field: e.field, file: e.file }))).toContainEqual({ code, at, field, file: 'p.yaml' });
  });
});

describe('a policy with no error', () => {
  test('yields no error for each valid form of the checked fields', () => {
    const text = native(
      [
        '  rules:',
        '    - from:',
        '        - source:',
        '            principals: ["spiffe://prod.example/ns/a/sa/b", "cluster.local/ns/a/sa/b", "*", "*/sa/b", "spiffe://prod.example/*"]',
        '            ipBlocks: ["10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "2001:db8::/32"]',
        '      to:',
        '        - operation:',
        '            paths: ["/", "*", "/a/*", "*.js", "/a/{*}/b", "/a/{**}", "/{*}"]',
        '            ports: [443, "8080", 65535, 1]',
        '            methods: ["GET", "PROPFIND", "M-SEARCH"]',
        '            hosts: ["api.example", "*.example", "[::1]", "10.0.0.1"]',
        '      when:',
        '        - key: request.auth.claims[realm][roles]',
        '          values: ["admin"]',
        '        - key: destination.port',
        '          values: ["443"]',
        '        - key: request.headers[:authority]',
        '          values: ["api.example"]',
        '        - key: request.headers[X-Tenant]',
        '          notValues: ["*"]',
        '        - key: request.body.json[order][amount]',
        '          values: ["10", "1*"]',
        '',
      ].join('\n'),
    );
    expect(parsePolicyText(text, 'p.yaml', OPTIONS).errors).toEqual([]);
  });
});

describe('a malformed body key', () => {
  test('says what a body key looks like, not the whole list of keys', () => {
    const { errors } = parsePolicyText(native('  rules:\n    - when:\n        - key: request.body.json[a]b\n          values: ["x"]\n'), 'p.yaml', OPTIONS);
    expect(errors.map((e) => e.message)).toEqual([
      'malformed body key "request.body.json[a]b": expected request.body.json[NAME], nested as [a][b], each name non-empty and without brackets, at most 32 levels',
    ]);
  });
});

