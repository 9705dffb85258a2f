/**
 * The shipped alert rules as Prometheus reads them, and the real Prometheus tools to run them:
 * promtool (check and unit tests) and a Prometheus server on loopback with a temporary TSDB,
 * scraping real meshwarden processes (Debian's `prometheus` package, /usr/bin).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { tempDir } from './server-process.js';

export const ALERTS_FILE = 'k8s/monitoring/meshwarden-alerts.yaml';
export const PROMTOOL = process.env['PROMTOOL_BIN'] ?? '/usr/bin/promtool';
export const PROMETHEUS = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** The groups of the PrometheusRule: what the operator hands Prometheus as a rule file. */
export function alertRuleGroups(text = readFileSync(ALERTS_FILE, 'utf8')): RuleGroup[] {
  return (parse(text) as { spec: { groups: RuleGroup[] } }).spec.groups;
}

export function alertRules(groups: readonly RuleGroup[] = alertRuleGroups()): Rule[] {
  return groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined));
}

export function writeRuleFile(path: string, groups: readonly RuleGroup[]): string {
  writeFileSync(path, stringify({ groups }));
  return path;
}

export function withoutAnnotations(groups: readonly RuleGroup[]): RuleGroup[] {
  return groups.map((group) => ({ ...group, rules: group.rules.map(({ annotations: _, ...rule }) => rule) }));
}

/** The scale the live tests run the rules on: a scrape and evaluation every second. */
export const SECONDS_SCALE: Readonly<Record<string, string>> = Object.freeze({ '5m': '5s', '10m': '10s', '15m': '15s', '1h': '30s' });

/**
 * The rules on a seconds scale, for a live test that cannot wait hours: each duration in
 * `scale` (ranges, offsets) becomes the one given, and `for` goes (promtool's unit tests
 * cover it). A duration missing from `scale` throws, so a new window is not left unscaled.
 */
export function onSecondsScale(groups: readonly RuleGroup[], scale: Readonly<Record<string, string>>): RuleGroup[] {
  const rescale = (expr: string) =>
    expr.replace(/(\[|offset\s+)(\d+[smhd])/g, (_, before: string, duration: string) => {
      const scaled = scale[duration];
      if (scaled === undefined) throw new Error(`no seconds-scale duration for ${duration} in: ${expr}`);
      return `${before}${scaled}`;
    });
  return groups.map((group) => ({ ...group, rules: group.rules.map(({ for: _, ...rule }) => ({ ...rule, expr: rescale(rule.expr) })) }));
}

export interface ToolResult {
  readonly status: number | null;
  readonly output: string;
}

export function promtool(args: readonly string[], cwd?: string): ToolResult {
  const run = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}

/** A port the kernel just handed out and took back; Prometheus cannot be told to pick one itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A `host:port` serving /metrics, and the target labels (namespace, pod) a ServiceMonitor would give it. */
export interface ScrapeTarget {
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusOptions {
  /** job name → its targets. */
  readonly jobs: Readonly<Record<string, readonly ScrapeTarget[]>>;
  readonly ruleGroups: readonly RuleGroup[];
  /** Scrape and rule evaluation interval. Default 1s. */
  readonly interval?: string;
  readonly startTimeoutMs?: number;
}

export interface PromVector {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface QueryAnswer {
  readonly status: 'success' | 'error';
  readonly data?: { readonly resultType: string; readonly result: PromVector[] };
  readonly error?: string;
}

export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
}

export interface PrometheusServer {
  readonly url: string;
  query(expr: string): Promise<QueryAnswer>;
  alerts(): Promise<ActiveAlert[]>;
  /** The alerts of this name that are firing now. */
  firing(alertname: string): Promise<ActiveAlert[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = tempDir('meshwarden-prometheus-');
  const rules = writeRuleFile(join(dir, 'rules.yaml'), options.ruleGroups);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, stringify(prometheusConfig(options, rules)));
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilReady(url, child, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; Prometheus said:\n${log}`);
  }
  const alerts = async () => ((await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: ActiveAlert[] } }).data.alerts;
  return {
    url,
    query: async (expr) => (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as Promise<QueryAnswer>,
    alerts,
    firing: async (alertname) => (await alerts()).filter((a) => a.labels['alertname'] === alertname && a.state === 'firing'),
    stop,
  };
}

function prometheusConfig(options: PrometheusOptions, ruleFile: string): object {
  const interval = options.interval ?? '1s';
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: [ruleFile],
    scrape_configs: Object.entries(options.jobs).map(([job, targets]) => ({
      job_name: job,
      static_configs: targets.map(({ address, labels }) => ({ targets: [address], labels })),
    })),
  };
}

async function untilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus not ready within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Checks sent one after another at about `perSecond`, until stopped or `max` were sent: load a scrape can see. */
export class PacedTraffic {
  #running = true;
  readonly #done: Promise<void>;

  constructor(send: () => Promise<unknown>, perSecond: number, max = 5_000) {
    this.#done = (async () => {
      for (let sent = 0; this.#running && sent < max; sent++) {
        await send();
        await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond)); // pacing, not waiting for an event
      }
    })().catch((error: unknown) => {
      if (this.#running) throw error; // a Check that fails while traffic is wanted fails the test that stops it
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}
