import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { testCommand } from '../../src/cli/test.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { WorkflowError } from '../../src/workflow/workflow-error.js';
import { capture } from './capture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const at = (path: string) => join(ROOT, path);
const EXAMPLES = ['examples/policies', '--cases', 'examples/tests/example-policies.cases.yaml'].map((a) => (a.startsWith('--') ? a : at(a)));
const OPS = [at('test/fixtures/workflow/policies'), '--cases', at('test/fixtures/workflow/ops.cases.yaml')];

describe('meshwarden test', () => {
  test('the example policies pass their cases, exit 0', async () => {
    const run = await capture(testCommand, EXAMPLES);
    expect(run.stdout).toMatch(/\nok: 20 passed, 0 failed\n$/);
    expect(run.code).toBe(0);
  });

  test('a failing case exits 1 with the expected and actual decision, naming the policy that decided', async () => {
    const run = await capture(testCommand, OPS);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('PASS DENY wins over a matching ALLOW\n');
    expect(run.stdout).toContain(
      [
        `FAIL a wrong expectation <fails> & says why (${at('test/fixtures/workflow/ops.cases.yaml')}:7:9)`,
        '  - expected: allow by ops-read-all',
        '  + actual:   deny (default_deny)',
      ].join('\n'),
    );
    expect(run.stdout).toMatch(/FAILED: 2 passed, 1 failed\n$/);
  });

  test.each([
    { action: 'DENY', exit: 1, reason: 'default_deny' },
    { action: 'allow', exit: 0, reason: 'default_allow' },
  ])('--default-action $action decides where no policy applies', async ({ action, exit, reason }) => {
    const cases = join(mkdtempSync(join(tmpdir(), 'mw-cases-')), 'c.yaml');
    writeFileSync(cases, '- name: n\n  request: { method: GET, path: /, contextExtensions: { service: inventory } }\n  expect: { decision: allow }\n');
    const run = await capture(testCommand, [OPS[0]!, '--cases', cases, '--default-action', action, '--json']);
    expect(run.code).toBe(exit);
    expect(JSON.parse(run.stdout)).toMatchObject({ cases: [{ actual: { reason } }] });
  });

  test('--json reports every case with its mismatches', async () => {
    const run = await capture(testCommand, [...OPS, '--json']);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: false, passed: 2, failed: 1 });
    expect(report['cases']).toContainEqual(expect.objectContaining({ ok: false, mismatches: ['decision', 'policy'], line: 7 }));
  });

  test('--junit writes JUnit XML with the failure', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mw-junit-')), 'report.xml');
    await capture(testCommand, [...OPS, '--junit', file]);
    const xml = readFileSync(file, 'utf8');
    expect(xml).toContain('tests="3" failures="1"');
    expect(xml).toContain('name="a wrong expectation &lt;fails&gt; &amp; says why"');
  });

  test.each([
    { why: 'no policy path', argv: ['--cases', 'x.yaml'] },
    { why: 'no cases file', argv: ['examples/policies'] },
    { why: 'an unknown flag', argv: [...OPS, '--verbose'] },
    { why: 'a default action that is neither ALLOW nor DENY', argv: [...OPS, '--default-action', 'MAYBE'] },
  ])('$why is a usage error (exit 2)', async ({ argv }) => {
    await expect(testCommand(argv)).rejects.toBeInstanceOf(CliUsageError);
  });

  test('policy errors stop the run and name file:line:col', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-bad-'));
    writeFileSync(join(dir, 'p.yaml'), 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec:\n  action: ALOW\n');
    const failure = testCommand([dir, '--cases', at('test/fixtures/workflow/ops.cases.yaml')]);
    await expect(failure).rejects.toBeInstanceOf(WorkflowError);
    await expect(failure).rejects.toThrow(/p\.yaml:5:11: /);
  });
});

describe('the built CLI', () => {
  const cli = at('dist/cli/main.js');

  test.runIf(existsSync(at('dist/cli/test.js')))('`node dist/cli/main.js test` runs the example cases and exits 0, or 1 on a failure', async () => {
    const run = promisify(execFile);
    const ok = await run(process.execPath, [cli, 'test', ...EXAMPLES], { cwd: ROOT });
    expect(ok.stdout).toContain('ok: 20 passed, 0 failed');
    const failed = await run(process.execPath, [cli, 'test', ...OPS], { cwd: ROOT }).catch((e: { code: number; stdout: string }) => e);
    expect(failed).toMatchObject({ code: 1, stdout: expect.stringContaining('FAILED: 2 passed, 1 failed') });
  });
});
