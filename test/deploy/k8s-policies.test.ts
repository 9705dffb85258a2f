// The policy ConfigMaps are generated from whole folders: a policy file added to a folder (by
// hand, or by `meshwarden learn --out`) is deployed once k8s/sync-policies.sh has listed it, and
// the committed lists are never stale. kustomize itself takes generator files by name only.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { learnCommand } from '../../src/cli/learn.js';
import { parsePolicyText } from '../../src/policy/index.js';
import { capture } from '../cli/capture.js';
import { kustomize, type Resource } from './lib/kustomize.js';

const SCRIPT = path.resolve('k8s/sync-policies.sh');
const POLICY_DIRS = ['k8s/base/policies', 'k8s/overlays/sidecar/policies'];

function sync(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('sh', [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function copyOfK8s(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mw-k8s-'));
  cpSync('k8s', dir, { recursive: true });
  return dir;
}

function policyConfigMap(resources: readonly Resource[]): Resource {
  return resources.find((r) => r['kind'] === 'ConfigMap' && String(r['metadata'].name).startsWith('meshwarden-policies-'))!;
}

function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

describe('the policy folders', () => {
  it.each(POLICY_DIRS)('%s: its kustomization lists every policy file in it (k8s/sync-policies.sh --check)', (dir) => {
    expect(sync('--check', dir)).toMatchObject({ status: 0, stderr: '' });
  });

  it('a stale list is caught by --check, naming the command that fixes it', () => {
    const dir = copyOfK8s();
    writeFileSync(path.join(dir, 'base/policies/extra.yaml'), '');
    const run = sync('--check', path.join(dir, 'base/policies'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`does not list the policy files of ${path.join(dir, 'base/policies')}: run k8s/sync-policies.sh`);
  });
});

describe('a policy learned into the base folder', () => {
  it('is deployed: after sync, the generated ConfigMap holds it, under a new name the Deployment mounts', async () => {
    const dir = copyOfK8s();
    const before = policyConfigMap(kustomize(path.join(dir, 'base')).resources)['metadata'].name;
    const learned = path.join(dir, 'base/policies/learned.yaml');
    const run = await capture(learnCommand, ['--from', 'docs/workflow/example-decisions.jsonl', '--min-count', '2', '--out', learned]);
    expect(run.code).toBe(0);
    expect(sync(path.join(dir, 'base/policies')).stdout).toContain('4 policy files');

    const { resources, problems } = kustomize(path.join(dir, 'base'));
    expect(problems).toEqual([]);
    const cm = policyConfigMap(resources);
    expect(Object.keys(cm['data']).sort()).toEqual(readdirSync(path.join(dir, 'base/policies')).filter((f) => f !== 'kustomization.yaml').sort());
    expect(cm['metadata'].name).not.toBe(before);
    const deployment = resources.find((r) => r['kind'] === 'Deployment')!;
    expect(deployment['spec'].template.spec.volumes).toContainEqual({ name: 'policies', configMap: { name: cm['metadata'].name } });
    const parsed = parsePolicyText(cm['data']['learned.yaml'], 'learned.yaml', { rootNamespace: 'istio-system' });
    expect([parsed.errors, parsed.policies.length]).toEqual([[], 3]);
  });

  it.skipIf(!hasKubectl())('is deployed by the real kustomize (kubectl kustomize) too', async () => {
    const dir = copyOfK8s();
    await capture(learnCommand, ['--from', 'docs/workflow/example-decisions.jsonl', '--out', path.join(dir, 'base/policies/learned.yaml')]);
    sync(path.join(dir, 'base/policies'));
    const built = parseAllDocuments(execFileSync('kubectl', ['kustomize', path.join(dir, 'base')], { encoding: 'utf8' })).map((d) => d.toJS() as Resource);
    expect(Object.keys(policyConfigMap(built)['data'])).toContain('learned.yaml');
  });
});

describe('k8s/sync-policies.sh refuses what a ConfigMap cannot deploy', () => {
  it('a policy file in a subfolder (a ConfigMap holds no folders)', () => {
    const dir = copyOfK8s();
    mkdirSync(path.join(dir, 'base/policies/team'));
    writeFileSync(path.join(dir, 'base/policies/team/p.yaml'), '');
    const run = sync(path.join(dir, 'base/policies'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('team/p.yaml: a ConfigMap holds no folders, so this file would not be deployed: move it into');
  });

  it('a file name that is no ConfigMap key', () => {
    const dir = copyOfK8s();
    writeFileSync(path.join(dir, 'base/policies/my policy.yaml'), '');
    const run = sync(path.join(dir, 'base/policies'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('my policy.yaml: not a valid ConfigMap key');
  });

  it('a folder without a kustomization to fill', () => {
    const run = sync(mkdtempSync(path.join(tmpdir(), 'mw-empty-')));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("needs a configMapGenerator with a '    files:' line to fill");
  });
});
