/** `meshwarden explain` as a user runs it: the built CLI on the bundled example requests. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../helpers/server-process.js';

function explain(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return explainWithInput(undefined, ...args);
}

function explainWithInput(input: string | undefined, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, 'explain', ...args], { cwd: REPO_ROOT, encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The first line of the example log whose caller's SPIFFE ID has `caller` in it. */
function lineOf(caller: string): string {
  return readFileSync(join(REPO_ROOT, 'docs/workflow/example-decisions.jsonl'), 'utf8')
    .split('\n')
    .find((line) => line.includes(caller))!;
}

/** batch reading a charge: denied by default. */
const BATCH_LINE = lineOf('/sa/batch');

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mw-explain-')), name);
  writeFileSync(file, text);
  return file;
}

describe('meshwarden explain', () => {
  it('shows checkout creating a charge allowed by the payments policy, and why', () => {
    const run = explain('--policy', 'examples/policies', '--request', 'examples/requests/checkout-creates-charge.yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/payments-api ALLOW: applies[\s\S]*rules\[0\]: matched/);
    expect(run.stdout).toMatch(/^decision: allow \(policy_allow by payments-api rules\[0\]\)$/m);
  });

  it('shows the batch workload denied by default, naming the principal that did not match', () => {
    const run = explain('--policy', 'examples/policies', '--request', 'examples/requests/batch-reads-charges.json');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('"spiffe://prod.example/ns/checkout/sa/batch" not in ["spiffe://prod.example/ns/checkout/sa/checkout"]');
    expect(run.stdout).toMatch(/^decision: deny \(default_deny\)$/m);
  });

  it('prints the trace as JSON with --json', () => {
    const out = execFileSync(process.execPath, [CLI, 'explain', '--json', '--policy', 'examples/policies', '--request', 'examples/requests/batch-reads-charges.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ evaluation: { effect: 'deny', reason: 'default_deny' } });
  });

  it('refuses to explain with broken policies and names file:line:col', () => {
    const run = explain('--policy', 'test/fixtures/policies/invalid', '--request', 'examples/requests/batch-reads-charges.json');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/invalid\/[\w.-]+\.yaml:\d+:\d+: /);
  });

  it('is a usage error without a request, and the usage names every option', () => {
    const run = explain('--policy', 'examples/policies');
    expect(run.status).toBe(2);
    for (const flag of ['--request FILE|-', '--config FILE', '--default-action ALLOW|DENY', '--root-namespace NS', '--json']) expect(run.stderr).toContain(flag);
  });

  it('says the decision is the compiled tree\'s, with the reference trace agreeing', () => {
    const run = explain('--policy', 'examples/policies', '--request', 'examples/requests/checkout-creates-charge.yaml');
    expect(run.stdout).toMatch(/^engine: the compiled decision tree \(the engine that enforces\) decided; the reference trace above agrees$/m);
  });

  it('takes a decision-log line as the request, replayed as the server logged it', () => {
    const run = explain('--policy', 'examples/policies', '--request', tempFile('line.json', `${BATCH_LINE}\n`));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('"spiffe://prod.example/ns/checkout/sa/batch" not in ["spiffe://prod.example/ns/checkout/sa/checkout"]');
    expect(run.stdout).toMatch(/^decision: deny \(default_deny\)$/m);
    expect(run.stderr).toContain('replaying a decision-log line');
  });

  it('reads the request from standard input with --request -', () => {
    const line = explainWithInput(BATCH_LINE, '--policy', 'examples/policies', '--request', '-');
    expect(line.stdout).toMatch(/^decision: deny \(default_deny\)$/m);
    const yaml = explainWithInput(readFileSync(join(REPO_ROOT, 'examples/requests/checkout-creates-charge.yaml'), 'utf8'), '--policy', 'examples/policies', '--request', '-');
    expect(yaml.stdout).toMatch(/^decision: allow \(policy_allow by payments-api rules\[0\]\)$/m);
  });

  it('refuses a whole log, saying how to pick one line', () => {
    const run = explain('--policy', 'examples/policies', '--request', 'docs/workflow/example-decisions.jsonl');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('holds 24 decision lines and explain takes one: pick it, e.g. sed -n 1p docs/workflow/example-decisions.jsonl');
  });

  it('--config takes the policies, defaultAction and rootNamespace of the server', () => {
    const config = tempFile('config.yaml', `policies: ["${join(REPO_ROOT, 'examples/policies')}"]\ndefaultAction: ALLOW\n`);
    // ledger has no enforced ALLOW, so the default decides
    const request = tempFile('line.json', lineOf('/sa/reporting'));
    const run = explain('--config', config, '--request', request);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^decision: allow \(default_allow\), dry-run: deny/m);
    expect(explain('--config', config, '--default-action', 'DENY', '--request', request).stdout).toMatch(/^decision: deny \(default_deny\)/m);
  });

  it('--config resolves the caller with the server\'s identity settings: an unconfigured trust domain is a 401', () => {
    const config = tempFile('config.yaml', `policies: ["${join(REPO_ROOT, 'examples/policies')}"]\nidentity:\n  trustDomains:\n    other.example: { roots: ./roots.pem }\n`);
    const run = explain('--config', config, '--request', 'examples/requests/checkout-creates-charge.yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('identity: ERR_TRUST_DOMAIN_UNTRUSTED: trust domain prod.example is not configured\ndecision: unauthenticated (401 whatever the policies say)\n');
  });
});
