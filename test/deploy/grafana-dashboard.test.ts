// The Grafana dashboard is valid JSON whose queries name only metrics meshwarden exports,
// group only by labels those metrics carry, and cover what an operator watches.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** meshwarden's metrics and their labels (the telemetry contract). */
const METRICS: Readonly<Record<string, readonly string[]>> = {
  meshwarden_checks_total: ['decision', 'reason'],
  meshwarden_check_duration_seconds: [],
  meshwarden_dry_run_decisions_total: ['outcome'],
  meshwarden_decision_cache_hits_total: [],
  meshwarden_decision_cache_misses_total: [],
  meshwarden_decision_cache_entries: [],
  meshwarden_token_cache_hits_total: [],
  meshwarden_token_cache_misses_total: [],
  meshwarden_token_cache_entries: [],
  meshwarden_token_verifications_total: ['kind', 'result'],
  meshwarden_jwks_fetches_total: ['result'],
  meshwarden_policy_reloads_total: ['result'],
  meshwarden_policy_generation: [],
  meshwarden_policy_rules: [],
  meshwarden_policy_info: ['hash'],
  meshwarden_policy_last_reload_success_timestamp_seconds: [],
  meshwarden_shadow_disagreements_total: ['enforced', 'shadow'],
};
const HISTOGRAMS = new Set(['meshwarden_check_duration_seconds']);
/** Labels Prometheus adds at scrape time (ServiceMonitor/PodMonitor target labels). */
const TARGET_LABELS = ['namespace', 'pod', 'job', 'instance', 'service', 'container'];
const DECISIONS = ['allow', 'deny', 'unauthenticated', 'invalid_request'];

interface Panel {
  type: string;
  title: string;
  id: number;
  targets?: { expr: string }[];
}

function dashboardProblems(json: string): string[] {
  const problems: string[] = [];
  const dashboard = JSON.parse(json) as { panels: Panel[]; templating: { list: { query: unknown }[] } };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
  for (const v of dashboard.templating.list) {
    if (typeof v.query === 'object' && v.query !== null) exprs.push({ title: 'variable', expr: String((v.query as { query: string }).query) });
  }
  for (const { title, expr } of exprs) {
    const names = [...expr.matchAll(/\bmeshwarden_[a-z0-9_]+/g)].map((m) => m[0]);
    if (names.length === 0) problems.push(`${title}: query names no meshwarden metric`);
    const bases = names.map((name) => {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      if (METRICS[name] !== undefined) return name;
      if (HISTOGRAMS.has(base) && base !== name) return base;
      problems.push(`${title}: unknown metric ${name}`);
      return undefined;
    });
    const labels = new Set([...TARGET_LABELS, ...bases.flatMap((b) => (b ? METRICS[b]! : [])), ...(names.some((n) => n.endsWith('_bucket')) ? ['le'] : [])]);
    const grouped = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
    const matched = [...expr.matchAll(/[{,]\s*([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
    for (const label of [...grouped, ...matched]) if (!labels.has(label)) problems.push(`${title}: label ${label} is not on ${names.join(', ')}`);
    for (const m of expr.matchAll(/decision!?=~?"([^"]*)"/g)) if (!DECISIONS.includes(m[1]!)) problems.push(`${title}: decision "${m[1]}" is not a decision`);
  }
  const ids = dashboard.panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) problems.push('panel ids are not unique');
  return problems;
}

describe('the Grafana dashboard', () => {
  const json = readFileSync('k8s/monitoring/meshwarden-dashboard.json', 'utf8');
  const exprs = (JSON.parse(json) as { panels: Panel[] }).panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');

  it('queries only meshwarden metrics, by their own labels', () => {
    expect(dashboardProblems(json)).toEqual([]);
  });

  it('shows decisions by reason, latency percentiles, cache hit ratios, reloads and dry-run outcomes', () => {
    expect(exprs).toMatch(/sum by \([^)]*reason[^)]*\) \(rate\(meshwarden_checks_total/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, sum by \(le\) \(rate\(meshwarden_check_duration_seconds_bucket/);
    expect(exprs).toContain('meshwarden_decision_cache_hits_total');
    expect(exprs).toContain('meshwarden_token_cache_misses_total');
    expect(exprs).toContain('meshwarden_policy_reloads_total');
    expect(exprs).toContain('meshwarden_dry_run_decisions_total');
  });

  it('is caught out by a query on a metric meshwarden does not export', () => {
    const broken = json.replace('meshwarden_policy_reloads_total', 'meshwarden_policy_reload_total');
    expect(dashboardProblems(broken)).toContainEqual(expect.stringContaining('unknown metric meshwarden_policy_reload_total'));
  });

  it('is caught out by grouping on a label the metric does not have', () => {
    const broken = json.replace('sum by (result) (increase(meshwarden_jwks_fetches_total', 'sum by (issuer) (increase(meshwarden_jwks_fetches_total');
    expect(broken).not.toBe(json);
    expect(dashboardProblems(broken)).toContainEqual(expect.stringContaining('label issuer'));
  });
});
