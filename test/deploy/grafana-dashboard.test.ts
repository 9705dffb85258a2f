// The Grafana dashboard is valid JSON whose queries name only metrics meshwarden exports,
// group only by labels those metrics carry, and cover what an operator watches.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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
  meshwarden_policy_last_reload_failure_timestamp_seconds: [],
  meshwarden_ready: [],
  meshwarden_decision_log_dropped_total: ['sink', 'reason'],
  meshwarden_shadow_disagreements_total: ['enforced', 'shadow'],
};
const HISTOGRAMS = new Set(['meshwarden_check_duration_seconds']);
/** Labels Prometheus adds at scrape time (ServiceMonitor/PodMonitor target labels). */
const TARGET_LABELS = ['namespace', 'pod', 'job', 'instance', 'service', 'container'];
const DECISIONS = ['allow', 'deny', 'unauthenticated', 'invalid_request'];
/** Each data source a panel may query, chosen by a dashboard variable (never a fixed uid). */
const DATA_SOURCES: Readonly<Record<string, string>> = { prometheus: '${datasource}', loki: '${loki}', tempo: '${tempo}' };

interface DataSource {
  type: string;
  uid: string;
}

interface Link {
  title: string;
  url: string;
}

interface Panel {
  type: string;
  title: string;
  id: number;
  datasource?: DataSource;
  targets?: { expr?: string; query?: string; datasource?: DataSource }[];
  fieldConfig?: { defaults: { links?: Link[] }; overrides: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[] };
}

/** Queries to Prometheus; the Loki and Tempo panels are checked by the trace_id tests. */
function prometheusTargets(panel: Panel): { expr: string }[] {
  return (panel.targets ?? []).filter((t) => (t.datasource ?? panel.datasource)?.type === 'prometheus').map((t) => ({ expr: t.expr ?? '' }));
}

function dashboardProblems(json: string): string[] {
  const problems: string[] = [];
  const dashboard = JSON.parse(json) as { panels: Panel[]; templating: { list: { query: unknown }[] } };
  const exprs = dashboard.panels.flatMap((p) => prometheusTargets(p).map((t) => ({ title: p.title, expr: t.expr })));
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
  for (const p of dashboard.panels) {
    for (const t of p.targets ?? []) {
      const { type, uid } = t.datasource ?? p.datasource ?? { type: 'none', uid: '' };
      if (DATA_SOURCES[type] !== uid) problems.push(`${p.title}: data source ${type} ${uid} is not one of the dashboard's variables`);
    }
  }
  const ids = dashboard.panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) problems.push('panel ids are not unique');
  return problems;
}

describe('the Grafana dashboard', () => {
  const json = readFileSync('k8s/monitoring/meshwarden-dashboard.json', 'utf8');
  const exprs = (JSON.parse(json) as { panels: Panel[] }).panels.flatMap((p) => prometheusTargets(p).map((t) => t.expr)).join('\n');

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

/** The Explore pane a Grafana data link opens, its `${...}` variables left as written. */
function explorePane(url: string): { datasource: string; queries: { queryType: string; query: string; datasource: DataSource }[] } {
  const panes = new URL(url, 'http://grafana.invalid').searchParams.get('panes');
  if (panes === null) throw new Error(`not an Explore link: ${url}`);
  return (JSON.parse(panes) as Record<string, ReturnType<typeof explorePane>>)['a']!;
}

function panel(dashboard: { panels: Panel[] }, title: string): Panel {
  const found = dashboard.panels.find((p) => p.title === title);
  if (found === undefined) throw new Error(`no panel ${title}`);
  return found;
}

/** Problems with following a request by trace_id: from a decision line to its trace, from a trace id to its line. */
function traceLinkProblems(json: string): string[] {
  const dashboard = JSON.parse(json) as { panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } };
  const problems: string[] = [];
  const variable = (name: string) => dashboard.templating.list.find((v) => v.name === name);
  for (const [name, type] of [['loki', 'loki'], ['tempo', 'tempo']]) {
    if (variable(name)?.type !== 'datasource' || variable(name)?.query !== type) problems.push(`no ${type} data source variable ${name}`);
  }
  if (variable('trace_id')?.type !== 'textbox') problems.push('no trace_id textbox variable');

  const refused = panel(dashboard, 'Refused decisions, each with its trace');
  const traceField = refused.fieldConfig?.overrides.find((o) => o.matcher.options === 'trace_id');
  const links = (traceField?.properties.find((p) => p.id === 'links')?.value ?? []) as Link[];
  if (links.length === 0) problems.push('the trace_id column links nowhere');
  for (const link of links) {
    const pane = explorePane(link.url);
    if (pane.datasource !== '${tempo}' || pane.queries[0]?.datasource.uid !== '${tempo}') problems.push(`trace link opens ${pane.datasource}, not \${tempo}`);
    if (pane.queries[0]?.query !== '${__value.raw}') problems.push(`trace link looks up ${pane.queries[0]?.query}, not the clicked trace id`);
  }
  for (const title of ['Refused decisions, each with its trace', 'Decision log lines']) {
    const expr = panel(dashboard, title).targets?.[0]?.expr ?? '';
    if (!expr.includes('"$trace_id"') || !expr.includes('decision_id')) problems.push(`${title}: does not find decision lines by $trace_id`);
  }
  const latencyLinks = panel(dashboard, 'Check latency percentiles').fieldConfig?.defaults.links ?? [];
  if (!latencyLinks.some((l) => explorePane(l.url).queries[0]?.query.includes('name = "meshwarden.check"'))) problems.push('latency panel does not link to Check spans');
  return problems;
}

describe('the Grafana dashboard, following a request by trace_id', () => {
  const json = readFileSync('k8s/monitoring/meshwarden-dashboard.json', 'utf8');

  it('links each refused decision line to its trace in Tempo, finds lines by trace_id, and links slow Checks to their spans', () => {
    expect(traceLinkProblems(json)).toEqual([]);
  });

  it('looks for decision lines under the container name the manifests give meshwarden', () => {
    const dashboard = JSON.parse(json) as { panels: Panel[] };
    const lokiExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => (t.datasource ?? p.datasource)?.type === 'loki').map((t) => t.expr ?? ''));
    const containers = new Set(lokiExprs.map((expr) => /container="([^"]+)"/.exec(expr)?.[1]));
    for (const file of ['k8s/base/deployment.yaml', 'k8s/overlays/sidecar/deployment.yaml']) {
      const deployment = parse(readFileSync(file, 'utf8')) as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
      const meshwarden = deployment.spec.template.spec.containers.find((c) => c.image.includes('meshwarden'));
      expect([...containers], file).toEqual([meshwarden?.name]);
    }
  });

  it('is caught out by a trace link pinned to one Tempo instead of the chosen data source', () => {
    const broken = json.replaceAll('${tempo}%22%2C%22queries', 'P214B5B846CF3925F%22%2C%22queries');
    expect(broken).not.toBe(json);
    expect(traceLinkProblems(broken)).toContainEqual(expect.stringContaining('trace link opens P214B5B846CF3925F'));
  });

  it('is caught out by a panel querying a data source by a fixed uid', () => {
    const broken = json.replaceAll('"uid": "${loki}"', '"uid": "loki-prod"');
    expect(dashboardProblems(broken)).toContainEqual(expect.stringContaining('data source loki loki-prod'));
  });
});
