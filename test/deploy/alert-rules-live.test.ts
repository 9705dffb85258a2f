/**
 * The shipped alert rules against a real Prometheus (Debian's, /usr/bin/prometheus) scraping
 * real meshwarden processes every second: every metric the rules name is there, every rule (and
 * every query of the Grafana dashboard) evaluates without error, and alerts fire on what a real
 * server does (a broken policy file, two replicas on different policies, denials jumping over
 * allowed traffic).
 *
 * Prometheus cannot wait hours here, so it loads the rules on a seconds scale (SECONDS_SCALE: each
 * range and offset in the rules becomes the seconds given; `for` is dropped). promtool's unit
 * tests (alert-rules.test.ts) check the rules as shipped, `for` included.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck } from '../helpers/check-client.js';
import { alertRuleGroups, onSecondsScale, PacedTraffic, SECONDS_SCALE, startPrometheus, type PrometheusServer, type RuleGroup } from '../helpers/prometheus.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const POLL = { timeout: 30_000, interval: 500 };
const CART = 'spiffe://mesh.test/ns/shop/sa/cart';
const BATCH = 'spiffe://mesh.test/ns/shop/sa/batch';

/** Lets the cart workload reach `paths` of orders; each `paths` gives another policy hash. YAML takes JSON. */
const policy = (paths: string) =>
  JSON.stringify({
    apiVersion: 'meshwarden.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'orders-from-cart' },
    spec: { target: { services: ['orders'] }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [CART] } }], to: [{ operation: { paths: [paths] } }] }] },
  });
/** A shadow set with no ALLOW: it disagrees with every allowed Check. */
const SHADOW = JSON.stringify({
  apiVersion: 'meshwarden.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'nothing-yet' },
  spec: { target: { services: ['orders'] }, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/orders/{**}'] } }] }] },
});
const BROKEN = 'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: broken\n';

const allowed = httpCheck({ principal: CART, path: '/orders/1', service: 'orders' });
const denied = httpCheck({ principal: BATCH, path: '/orders/1', service: 'orders' });

let dir: string;
let server: ServerProcess;
let replica: ServerProcess;
let prometheus: PrometheusServer;
let client: CheckClient;
let groups: RuleGroup[];
/** Allowed Checks throughout, as a service has: the shadow set disagrees with each, and most lines are over the log's limit. */
let steady: PacedTraffic;

/** A server in its own directory (the one given, or a new one) on `policyText`. */
async function startMeshwarden(policyText: string, at = tempDir('meshwarden-alerts-live-'), extra: string[] = []): Promise<ServerProcess> {
  writeFileSync(join(at, 'orders.yaml'), policyText);
  writeFileSync(join(at, 'shadow.yaml'), SHADOW);
  // every allow logged, one line a second kept: the rest are real decision log drops (rate_limited);
  // every Check traced to a collector that is not there (a closed loopback port): its spans are
  // real trace span drops (export_failed)
  const config = [
    'policies: [orders.yaml]',
    'shadowPolicies: [shadow.yaml]',
    'decisionLog: { maxLinesPerSecond: 1, allowSampleRate: 1 }',
    'tracing: { otlp: { endpoint: "http://127.0.0.1:9/v1/traces", timeout: 1s }, sampleRate: 1 }',
    ...extra,
  ];
  return startServer({ configDir: at, configText: config.join('\n') });
}

beforeAll(async () => {
  // A live reload watch on one, and a replica left on an older policy beside it.
  dir = tempDir('meshwarden-alerts-live-');
  server = await startMeshwarden(policy('/orders/{*}'), dir, ['reload: { watch: true, debounce: 50ms }']);
  replica = await startMeshwarden(policy('/orders/{**}'));
  client = new CheckClient(server.grpc, { deadlineMs: 10_000 });
  steady = new PacedTraffic(() => client.check(allowed), 10, 3_000);
  groups = onSecondsScale(alertRuleGroups(), SECONDS_SCALE);
  prometheus = await startPrometheus({
    jobs: {
      meshwarden: [
        { address: server.admin, labels: { namespace: 'shop', pod: 'meshwarden-1' } },
        { address: replica.admin, labels: { namespace: 'shop', pod: 'meshwarden-2' } },
      ],
    },
    ruleGroups: groups,
  });
}, 60_000);

afterAll(async () => {
  await steady?.stop();
  client?.close();
  await Promise.all([prometheus?.stop(), server?.stop(), replica?.stop()]);
});

const firing = (alertname: string) => prometheus.firing(alertname);

/** The value of a query that gives one sample (NaN if none). */
const scalar = async (expr: string): Promise<number> => Number((await prometheus.query(expr)).data?.result[0]?.value[1] ?? NaN);

const metricNames = (rules: RuleGroup[]) =>
  [...new Set(rules.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/(?<![\w:])meshwarden_[a-z0-9_]+(?![\w:])/g)].map((m) => m[0]))))].sort();

describe('a real Prometheus scraping real meshwarden processes', () => {
  it('finds every metric the rules name among the scraped series', async () => {
    await expect
      .poll(async () => {
        const answer = await prometheus.query('group by (__name__) ({__name__=~"meshwarden_.+"})');
        const scraped = new Set(answer.data?.result.map((v) => v.metric['__name__']));
        return metricNames(groups).filter((name) => !scraped.has(name));
      }, POLL)
      .toEqual([]);
  }, 40_000);

  it('evaluates every recording and alerting expression to a vector, without error', async () => {
    for (const rule of groups.flatMap((g) => g.rules)) {
      const answer = await prometheus.query(rule.expr);
      expect({ rule: rule.alert ?? rule.record, status: answer.status, error: answer.error, type: answer.data?.resultType }).toEqual({
        rule: rule.alert ?? rule.record,
        status: 'success',
        error: undefined,
        type: 'vector',
      });
    }
    // recording rules have real series under them: each gives a sample for the job
    const records = groups.flatMap((g) => g.rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));
    const empty = async () => (await Promise.all(records.map(async (r) => ((await prometheus.query(r)).data?.result.length ? [] : [r])))).flat();
    await expect.poll(empty, POLL).toEqual([]);
  }, 60_000);

  it('evaluates every Prometheus query of the Grafana dashboard, its variables filled in as Grafana would', async () => {
    const dashboard = JSON.parse(readFileSync('k8s/monitoring/meshwarden-dashboard.json', 'utf8')) as {
      panels: { title: string; targets?: { expr?: string; datasource?: { type: string } }[] }[];
    };
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.datasource?.type === 'prometheus').map((t) => ({ title: p.title, expr: t.expr! })));
    expect(queries.length).toBeGreaterThan(20);
    for (const { title, expr } of queries) {
      const filled = expr.replaceAll('$namespace', '.*').replaceAll('$__rate_interval', '5s').replaceAll('$__interval', '5s');
      const answer = await prometheus.query(filled);
      expect({ title, status: answer.status, error: answer.error }).toEqual({ title, status: 'success', error: undefined });
    }
  });

  it('fires MeshwardenPolicyHashMismatch while the two replicas serve different policies', async () => {
    await expect.poll(async () => (await firing('MeshwardenPolicyHashMismatch')).map((a) => a.labels['job']), POLL).toEqual(['meshwarden']);
    const [alert] = await firing('MeshwardenPolicyHashMismatch');
    expect(alert!.annotations['summary']).toBe('Replicas of shop/meshwarden serve 2 different policies');
  }, 40_000);

  it('fires MeshwardenPolicyReloadFailing for the replica given a broken policy file, and clears when the file is fixed', async () => {
    writeFileSync(join(dir, 'orders.yaml'), BROKEN);
    await server.waitForLog((line) => String(line['msg']).startsWith('policies failed to load'), 15_000);
    await expect.poll(async () => (await firing('MeshwardenPolicyReloadFailing')).map((a) => a.labels['pod']), POLL).toEqual(['meshwarden-1']);
    const [alert] = await firing('MeshwardenPolicyReloadFailing');
    expect(alert!.annotations['summary']).toBe('meshwarden meshwarden-1 failed to load its newest policy files');
    expect(alert!.annotations['runbook_url']).toBe('docs/alerts.md#meshwardenpolicyreloadfailing');

    writeFileSync(join(dir, 'orders.yaml'), policy('/orders/{*}'));
    await expect.poll(async () => (await firing('MeshwardenPolicyReloadFailing')).length, POLL).toBe(0);
  }, 70_000);

  it('fires MeshwardenTraceSpansDropped, export_failed, for replicas whose collector is not there', async () => {
    await expect.poll(async () => (await firing('MeshwardenTraceSpansDropped')).map((a) => a.labels['reason']), POLL).toContain('export_failed');
    const [alert] = await firing('MeshwardenTraceSpansDropped');
    expect(alert!.annotations['summary']).toBe('shop/meshwarden drops trace spans (export_failed)');
  }, 40_000);

  it('fires MeshwardenDenyRateAboveBaseline when denials jump over a baseline of allowed traffic, not before', async () => {
    // the seconds-scale baseline is the 30 s before the last 10 s: wait until it holds 10 samples of the steady allowed traffic
    await expect.poll(() => scalar('count_over_time(namespace_job:meshwarden_checks_refused:ratio_rate5m[30s] offset 10s)'), POLL).toBeGreaterThanOrEqual(10);
    expect(await scalar('namespace_job:meshwarden_checks_refused:ratio_baseline1h')).toBe(0);
    expect(await firing('MeshwardenDenyRateAboveBaseline')).toEqual([]);

    const denials = new PacedTraffic(() => client.check(denied), 40);
    try {
      await expect.poll(async () => (await firing('MeshwardenDenyRateAboveBaseline')).map((a) => a.labels['job']), POLL).toEqual(['meshwarden']);
    } finally {
      await denials.stop();
    }
    const [alert] = await firing('MeshwardenDenyRateAboveBaseline');
    expect(alert!.annotations['summary']).toMatch(/^shop\/meshwarden refuses \d+(\.\d+)?% of Checks, over twice its baseline$/);
  }, 90_000);
});
