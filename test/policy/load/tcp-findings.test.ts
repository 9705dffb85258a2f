/**
 * `meshwarden check` warns where a policy that reaches a TCP destination names what only HTTP
 * has, at the field, as istioctl analyze does; the policy still loads (a warning, not an error).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkCommand } from '../../../src/cli/check.js';
import { parsePolicyText, type PolicyError } from '../../../src/policy/load/index.js';
import { capture } from '../../cli/capture.js';

/** A native policy: `spec:` is line 4, `rules:` line 7, the first rule's `- from`/`- to` line 8. */
function native(action: string, services: string, rule: string): string {
  return `apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec:\n  action: ${action}\n  target: { services: ${services} }\n  rules:\n${rule}`;
}

const METHODS = '    - from: [{ source: { principals: ["cluster.local/ns/shop/sa/orders"] } }]\n      to: [{ operation: { methods: ["GET"] } }]\n';
const ONLY_TCP = '    - from: [{ source: { principals: ["cluster.local/ns/shop/sa/orders"] } }]\n      to: [{ operation: { ports: ["6379"] } }]\n';

function warnings(text: string, tcpServices: readonly string[] = ['redis']): PolicyError[] {
  const result = parsePolicyText(text, 'p.yaml', { rootNamespace: 'istio-system', tcpServices });
  expect(result.errors).toEqual([]);
  expect(result.policies).toHaveLength(1);
  return result.warnings.filter((w) => w.code === 'http_only_field_on_tcp');
}

describe('warnings on HTTP-only fields in policies that reach TCP destinations', () => {
  test('an ALLOW targeting a listed TCP service: at the field, saying the rule never matches a connection', () => {
    expect(warnings(native('ALLOW', '["redis"]', METHODS))).toEqual([
      expect.objectContaining({
        line: 9,
        field: 'spec.rules[0].to[0].operation.methods',
        message: 'methods is an HTTP attribute, which a TCP connection does not have (target redis is TCP): on a connection this ALLOW rule never matches',
      }),
    ]);
  });

  test('a target named by a port number is TCP without being listed', () => {
    expect(warnings(native('ALLOW', '["6379"]', METHODS), []).map((w) => w.field)).toEqual(['spec.rules[0].to[0].operation.methods']);
  });

  test('a DENY whose target pattern matches a listed service: each HTTP-only field and condition, saying it matches more', () => {
    const rule = '    - from: [{ source: { requestPrincipals: ["*"] } }]\n      to: [{ operation: { notPaths: ["/health"] } }]\n      when: [{ key: "request.headers[x-tenant]", values: ["evil"] }]\n';
    const found = warnings(native('DENY', '["red*"]', rule));
    expect(found.map((w) => w.field)).toEqual(['spec.rules[0].from[0].source.requestPrincipals', 'spec.rules[0].to[0].operation.notPaths', 'spec.rules[0].when[0].key']);
    expect(found[2]?.message).toBe(
      'request.headers[x-tenant] is an HTTP attribute, which a TCP connection does not have (target red* is TCP): on a connection this DENY rule ignores it, so it matches more connections than it reads',
    );
  });

  test('an Istio DENY scoped only by namespace reaches every TCP service once some are listed', () => {
    const istio = 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: shop }\nspec:\n  action: DENY\n  rules:\n    - to: [{ operation: { paths: ["/admin*"] } }]\n';
    expect(warnings(istio).map((w) => w.message)).toEqual([
      'paths is an HTTP attribute, which a TCP connection does not have (it applies to every destination in its scope, the TCP services redis included): on a connection this DENY rule ignores it, so it matches more connections than it reads',
    ]);
    expect(warnings(istio, [])).toEqual([]);
  });

  test.each([
    ['an ALLOW targeting an HTTP service', native('ALLOW', '["payments"]', METHODS)],
    ['an ALLOW without a target (on a connection it allows less: the safe side)', native('ALLOW', '[]', METHODS).replace('  target: { services: [] }\n', '')],
    ['a policy on a TCP service that names only what a connection has', native('DENY', '["redis"]', ONLY_TCP)],
  ])('none for %s', (_name, text) => {
    expect(warnings(text)).toEqual([]);
  });
});

describe('meshwarden check --tcp-services', () => {
  test('prints the warning at file:line:col and still passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshwarden-tcp-check-'));
    const file = join(dir, 'redis.yaml');
    writeFileSync(file, native('ALLOW', '["redis"]', METHODS));
    const run = await capture(checkCommand, ['--tcp-services', 'postgres, redis', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${file}:9:`);
    expect(run.stdout).toContain('warning: methods is an HTTP attribute');
    expect((await capture(checkCommand, [file])).stdout).not.toContain('HTTP attribute');
  });
});
