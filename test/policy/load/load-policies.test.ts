import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { formatPolicyError, loadPolicies } from '../../../src/policy/load/index.js';

const OPTIONS = { rootNamespace: 'istio-system' };
const FIXTURES = fileURLToPath(new URL('../../fixtures/policies/', import.meta.url));
const at = (path: string): string => join(FIXTURES, path);

const policyText = (name: string): string =>
  `apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name} }\nspec: { rules: [{}] }\n`;

describe('loading files and directories', () => {
  test('a directory loads recursively in code-point order, skipping hidden and non-policy files', async () => {
    const result = await loadPolicies([at('tree')], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.files.map((f) => f.path)).toEqual([at('tree/a/z.yaml'), at('tree/b/a.yml'), at('tree/c.json.yaml')]);
    expect(result.policies.map((p) => p.id)).toEqual(['z-first', 'a-second', 'root-last']);
  });

  test('paths load in the order given, and a file reached twice loads once', async () => {
    const result = await loadPolicies([at('native/payments.json'), at('native')], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.files.map((f) => f.path)).toEqual([at('native/payments.json'), at('native/payments.yaml')]);
  });

  test('each file carries the SHA-256 of its bytes', async () => {
    const result = await loadPolicies([at('native/payments.yaml')], OPTIONS);
    const expected = createHash('sha256').update(await readFile(at('native/payments.yaml'))).digest('hex');
    expect(result.files).toEqual([{ path: at('native/payments.yaml'), sha256: expected }]);
  });

  test('a realistic Istio export loads, every document of it', async () => {
    const result = await loadPolicies([at('istio/bookinfo.yaml')], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies.map((p) => [p.id, p.action, p.mode, p.rules.length])).toEqual([
      ['bookinfo/allow-nothing', 'ALLOW', 'enforce', 0],
      ['bookinfo/productpage-viewer', 'ALLOW', 'enforce', 1],
      ['bookinfo/reviews-from-productpage', 'ALLOW', 'enforce', 1],
      ['istio-system/deny-admin-outside-cluster', 'DENY', 'dry-run', 2],
    ]);
    expect(result.policies[3]!.scope).toEqual({});
    expect(result.policies[2]!.rules[0]!.when).toEqual([{ key: 'request.headers[x-b3-sampled]', notValues: ['0'] }]);
    expect(result.warnings.map((w) => [w.code, w.line])).toEqual([
      ['selector_allow_scoped', 25],
      ['selector_allow_scoped', 44],
    ]);
  });

  test('action CUSTOM is skipped with a warning saying so, never dropped silently; strict, it is an error', async () => {
    expect((await loadPolicies([at('invalid/custom.yaml')], OPTIONS)).warnings.map(formatPolicyError)).toEqual([
      `${at('invalid/custom.yaml')}:10:11: action CUSTOM hands requests to an external authorizer (meshwarden, for the policy that routes to it): not a policy meshwarden enforces: skipped (spec.action)`,
    ]);
    const result = await loadPolicies([at('invalid/custom.yaml')], { ...OPTIONS, strict: true });
    expect(result.policies).toEqual([]);
    expect(result.errors.map(formatPolicyError)).toEqual([
      `${at('invalid/custom.yaml')}:10:11: action CUSTOM delegates to an external authorizer, and meshwarden is that authorizer: the policy would do nothing here; write the rules as ALLOW or DENY policies instead (spec.action)`,
    ]);
  });

  test('a path that does not exist is an error naming it', async () => {
    const result = await loadPolicies([at('missing.yaml'), at('native/payments.json')], OPTIONS);
    expect(result.errors.map((e) => [e.code, e.file, e.line])).toEqual([['read_failed', at('missing.yaml'), 0]]);
    expect(result.policies.map((p) => p.id)).toEqual(['payments-deny-refunds']);
  });
});

describe('with a scratch directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshwarden-load-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a Kubernetes ConfigMap volume loads each policy once, through its visible links', async () => {
    const data = join(dir, '..2024_05_02_10_11_12.000000001');
    await mkdir(data);
    await writeFile(join(data, 'a.yaml'), policyText('a'));
    await writeFile(join(data, 'b.yaml'), policyText('b'));
    await symlink(data, join(dir, '..data'));
    await symlink(join('..data', 'a.yaml'), join(dir, 'a.yaml'));
    await symlink(join('..data', 'b.yaml'), join(dir, 'b.yaml'));
    const result = await loadPolicies([dir], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.files.map((f) => f.path)).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
  });

  test('a symlink cycle and a dangling link do not stop the load', async () => {
    await writeFile(join(dir, 'a.yaml'), policyText('a'));
    await symlink(dir, join(dir, 'loop'));
    await symlink(join(dir, 'gone.yaml'), join(dir, 'dangling.yaml'));
    const result = await loadPolicies([dir], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies.map((p) => p.id)).toEqual(['a']);
  });

  test('the same id in two files is an error on the second, naming the first', async () => {
    await writeFile(join(dir, 'a.yaml'), policyText('same'));
    await writeFile(join(dir, 'b.yaml'), `# second\n${policyText('same')}`);
    const result = await loadPolicies([dir], OPTIONS);
    expect(result.errors.map(formatPolicyError)).toEqual([
      `${join(dir, 'b.yaml')}:4:19: duplicate policy id "same", first defined at ${join(dir, 'a.yaml')}:3:19 (metadata.name)`,
    ]);
  });

  test('an Istio and a native policy of the same name do not collide', async () => {
    await writeFile(join(dir, 'a.yaml'), policyText('web'));
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: web }\nspec: {}\n');
    const result = await loadPolicies([dir], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies.map((p) => p.id)).toEqual(['web', 'default/web']);
  });

  test('a directory without policy files is a warning', async () => {
    await writeFile(join(dir, 'notes.txt'), 'nothing');
    const result = await loadPolicies([dir], OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => [w.code, w.file])).toEqual([['no_policy_files', dir]]);
  });

  test('a file named explicitly loads whatever its extension', async () => {
    await writeFile(join(dir, 'policy.txt'), policyText('explicit'));
    expect((await loadPolicies([join(dir, 'policy.txt')], OPTIONS)).policies.map((p) => p.id)).toEqual(['explicit']);
  });

  test('the result is frozen', async () => {
    await writeFile(join(dir, 'a.yaml'), policyText('a'));
    const result = await loadPolicies([dir], OPTIONS);
    expect(Object.isFrozen(result.policies)).toBe(true);
    expect(Object.isFrozen(result.files[0])).toBe(true);
  });
});
