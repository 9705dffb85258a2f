import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkCommand } from '../../src/cli/check.js';
import { capture } from './capture.js';

describe('meshwarden check', () => {
  test('passes on the Istio overlay, skipping what is not a policy meshwarden enforces with one warning each', async () => {
    const run = await capture(checkCommand, ['k8s/overlays/istio']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const warnings = lines.slice(0, -1);
    expect(lines.at(-1)).toBe(`ok: 0 policies, 0 rules; 0 errors, ${warnings.length} warnings`);
    expect(warnings.every((line) => line.includes(': warning: ') && line.includes('skipped'))).toBe(true);
    expect(warnings).toContain('k8s/overlays/istio/destinationrule.yaml:6:7: warning: DestinationRule "meshwarden" (networking.istio.io/v1beta1) is not an authorization policy: skipped (kind)');
    expect(warnings.filter((line) => line.startsWith('k8s/overlays/istio/authorizationpolicy.yaml:')).map((line) => line.split(': ')[1])).toEqual(['warning']);
  });

  test('--strict keeps them errors', async () => {
    const skipped = (await capture(checkCommand, ['k8s/overlays/istio'])).stdout.trimEnd().split('\n').length - 1;
    const run = await capture(checkCommand, ['--strict', 'k8s/overlays/istio']);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(`failed: 0 policies, 0 rules; ${skipped} errors, 0 warnings`);
  });

  test('reads a folder that kustomize deploys, without a word about its kustomization.yaml', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-check-'));
    writeFileSync(join(dir, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n');
    writeFileSync(join(dir, 'p.yaml'), 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec: { action: DENY, rules: [{}] }\n');
    const run = await capture(checkCommand, [dir]);
    expect([run.code, run.stdout]).toEqual([0, 'ok: 1 policy, 1 rule; 0 errors, 0 warnings\n']);
  });
});
