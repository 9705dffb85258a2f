// The shipped PrometheusRule: a valid object for the Prometheus Operator, rules that promtool
// accepts, each alert made to fire and kept quiet by promtool unit tests
// (alert-rules.promtool.yaml), and each with the annotations and runbook an on-call reads.
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTS_FILE, alertRuleGroups, alertRules, promtool, withoutAnnotations, writeRuleFile, type RuleGroup } from '../helpers/prometheus.js';
import { tempDir } from '../helpers/server-process.js';
import { k8sProblems } from './lib/k8s-schema.js';

const UNIT_TESTS = 'test/deploy/alert-rules.promtool.yaml';
const RUNBOOK = 'docs/alerts.md';
const REQUIRED_ALERTS = [
  'MeshwardenPolicyReloadFailing',
  'MeshwardenPolicyHashMismatch',
  'MeshwardenDenyRateAboveBaseline',
  'MeshwardenShadowDisagreementsRising',
  'MeshwardenDecisionLogDropping',
  'MeshwardenTokenVerificationFailures',
  'MeshwardenCheckLatencyHigh',
  'MeshwardenReadinessFlapping',
  'MeshwardenListenerSvidRotationStalled',
  'MeshwardenTraceSpansDropped',
];

const text = readFileSync(ALERTS_FILE, 'utf8');
const groups = alertRuleGroups(text);

function checkRules(ruleGroups: readonly RuleGroup[]) {
  const dir = tempDir('meshwarden-rules-');
  try {
    return promtool(['check', 'rules', writeRuleFile(join(dir, 'rules.yaml'), ruleGroups)]);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** promtool's unit tests against these rules, annotations left out (promtool compares them rendered). */
function unitTest(ruleGroups: readonly RuleGroup[]) {
  const dir = tempDir('meshwarden-rule-tests-');
  writeRuleFile(join(dir, 'rules.yaml'), withoutAnnotations(ruleGroups));
  copyFileSync(UNIT_TESTS, join(dir, 'tests.yaml'));
  try {
    return promtool(['test', 'rules', 'tests.yaml'], dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** The groups with one alert's expression rewritten. */
function withExpr(alert: string, rewrite: (expr: string) => string): RuleGroup[] {
  return groups.map((group) => ({ ...group, rules: group.rules.map((rule) => (rule.alert === alert ? { ...rule, expr: rewrite(rule.expr) } : rule)) }));
}

describe('the PrometheusRule', () => {
  it('validates strictly as monitoring.coreos.com/v1 PrometheusRule', () => {
    expect(k8sProblems(parse(text))).toEqual([]);
  });

  it('is caught out by a misspelt field in a rule', () => {
    const broken = text.replace('annotations:', 'anotations:');
    expect(k8sProblems(parse(broken))).toContainEqual(expect.stringContaining('anotations: unknown field'));
  });

  it('is part of the monitoring kustomization', () => {
    expect((parse(readFileSync('k8s/monitoring/kustomization.yaml', 'utf8')) as { resources: string[] }).resources).toContain('meshwarden-alerts.yaml');
  });
});

describe('promtool check rules', () => {
  it('accepts every rule group, expression and annotation template', () => {
    const result = checkRules(groups);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('is caught out by an expression that does not parse', () => {
    const result = checkRules(withExpr('MeshwardenCheckLatencyHigh', (expr) => expr.replace('sum by', 'sum bye')));
    expect(result.status).not.toBe(0);
  });
});

describe('promtool test rules', () => {
  it('sees each alert fire on the series meant to fire it, and stay quiet on the others', () => {
    const result = unitTest(groups);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('tests every alert the rule ships', () => {
    const tested = new Set([...readFileSync(UNIT_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]!));
    expect(alertRules(groups).map((rule) => rule.alert).filter((name) => !tested.has(name!))).toEqual([]);
  });

  it('fails when the minimum volume is dropped: a quiet service would page', () => {
    const result = unitTest(withExpr('MeshwardenDenyRateAboveBaseline', (expr) => expr.replace(/and namespace_job:meshwarden_checks:rate5m > 1\s*$/, '')));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('job="quiet"');
  });

  it('fails when an idle spell leaves NaN in the refused share: its baseline would never page again within the hour', () => {
    const nanOnIdle = groups.map((group) => ({ ...group, rules: group.rules.map((rule) => ({ ...rule, expr: rule.expr.replace(':rate5m > 0)', ':rate5m)') })) }));
    const result = unitTest(nanOnIdle);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('job="sleepy"');
  });

  it("fails when the SVID's threshold reaches past half its lifetime: every healthy rotation would page", () => {
    const result = unitTest(withExpr('MeshwardenListenerSvidRotationStalled', (expr) => expr.replace(') / 3', ') / 1.5')));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('pod="mw-1"');
  });

  it('fails without the guard on 0: a listener waiting for its first SVID would page', () => {
    const result = unitTest(withExpr('MeshwardenListenerSvidRotationStalled', (expr) => expr.replace(/\s*and meshwarden_workload_api_svid_expiry_timestamp_seconds > 0\s*$/, '')));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('pod="mw-4"');
  });

  it('fails when the failure time is compared the wrong way round', () => {
    const result = unitTest(withExpr('MeshwardenPolicyReloadFailing', (expr) => expr.replace(' > ', ' < ')));
    expect(result.status).not.toBe(0);
  });
});

describe('each alert', () => {
  const alerts = alertRules(groups);
  const runbook = readFileSync(RUNBOOK, 'utf8');
  const anchors = new Set([...runbook.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));

  it('covers what an SRE is paged for', () => {
    expect(alerts.map((rule) => rule.alert)).toEqual(REQUIRED_ALERTS);
  });

  it.each(alerts.map((rule) => [rule.alert!, rule] as const))('%s has a severity, a summary, a description and a runbook section', (_, rule) => {
    expect(['critical', 'warning', 'info']).toContain(rule.labels?.['severity']);
    expect(rule.annotations?.['summary']).toMatch(/\S/);
    expect(rule.annotations?.['description']).toMatch(/\S/);
    const [file, anchor] = (rule.annotations?.['runbook_url'] ?? '').split('#');
    expect(file).toBe(RUNBOOK);
    expect(anchors).toContain(anchor);
  });

  it('groups by the target labels every meshwarden scrape has', () => {
    for (const { expr } of alerts) for (const [, by] of expr.matchAll(/\bby \(([^)]*)\)/g)) expect(by).toMatch(/^namespace, job\b/);
  });
});
