/**
 * Telemetry across node:cluster workers. The primary asks every worker for its metrics (as
 * prom-client JSON) or its flow graph over the IPC channel, then aggregates with
 * AggregatorRegistry.aggregate and FlowGraph.merge. prom-client's own clusterMetrics() is
 * not used: it reads module-global registries, fails the whole scrape when one worker is
 * slow, and carries no flow graphs; a worker that does not answer in time is left out here.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, Gauge, Registry, type PrometheusContentType } from 'prom-client';
import { FlowGraph, type FlowGraphLimits, type FlowGraphSnapshot } from './flow-graph.js';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type Want = 'metrics' | 'flows';
type Listener = (message: unknown) => void;

const REQUEST = 'meshwarden:telemetry-request';
const REPLY = 'meshwarden:telemetry-reply';

export interface TelemetryRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
  readonly want: Want;
}

export interface TelemetryReply {
  readonly type: typeof REPLY;
  readonly id: number;
  readonly metrics?: MetricsJson[];
  readonly flows?: FlowGraphSnapshot;
}

/** The primary's handle on a worker; a cluster Worker fits as is. */
export interface TelemetryPeer {
  send(message: TelemetryRequest, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: Listener): unknown;
  off(event: 'message', listener: Listener): unknown;
  isConnected(): boolean;
}

/** The worker's channel to the primary; `process` fits as is. */
export interface TelemetryChannel {
  send?(message: TelemetryReply): boolean;
  on(event: 'message', listener: Listener): unknown;
  off(event: 'message', listener: Listener): unknown;
}

export interface ClusterMetricsAggregatorOptions {
  /** The workers to ask; default: every worker of node:cluster. */
  readonly peers?: () => Iterable<TelemetryPeer>;
  /** The primary's own registries, included in the aggregate. */
  readonly local?: readonly Registry[];
  readonly localFlows?: () => FlowGraphSnapshot;
  /** How long to wait for each worker. Default 2000 ms, under Prometheus' usual 10 s timeout. */
  readonly timeoutMs?: number;
  readonly flowLimits?: Partial<FlowGraphLimits>;
}

export interface ClusterMetricsAggregator {
  readonly contentType: string;
  /** Text exposition summed (or min/max, per metric) across workers and the primary. */
  metrics(): Promise<string>;
  flows(): Promise<FlowGraphSnapshot>;
}

const DEFAULT_TIMEOUT_MS = 2000;

/** Primary side. */
export function createClusterMetricsAggregator(options: ClusterMetricsAggregatorOptions = {}): ClusterMetricsAggregator {
  const peers = options.peers ?? clusterWorkers;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const local = options.local ?? [];
  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    async metrics() {
      const { replies, asked } = await askAll(peers, 'metrics', timeoutMs);
      const own = await Promise.all(local.map((registry) => registry.getMetricsAsJSON()));
      const remote = replies.flatMap((reply) => reply.metrics ?? []);
      const aggregated = AggregatorRegistry.aggregate<PrometheusContentType>([...own, ...remote]);
      recordWorkerAnswers(aggregated, asked, replies.length);
      return aggregated.metrics();
    },
    async flows() {
      const { replies } = await askAll(peers, 'flows', timeoutMs);
      const snapshots = replies.flatMap((reply) => (reply.flows === undefined ? [] : [reply.flows]));
      if (options.localFlows !== undefined) snapshots.push(options.localFlows());
      return FlowGraph.merge(snapshots, options.flowLimits).toJSON();
    },
  };
}

export interface TelemetryResponderOptions {
  readonly registries: readonly Registry[];
  readonly flows?: () => FlowGraphSnapshot;
  /** Default: `process`, the IPC channel node:cluster gives a worker. */
  readonly channel?: TelemetryChannel;
}

/** Worker side: answers the primary's requests until the returned function is called. */
export function answerTelemetryRequests(options: TelemetryResponderOptions): () => void {
  const channel = options.channel ?? process;
  const listener: Listener = (message) => {
    if (!isRequest(message)) return;
    void reply(message, options).then(
      (answer) => channel.send?.(answer),
      () => channel.send?.({ type: REPLY, id: message.id }),
    );
  };
  channel.on('message', listener);
  return () => void channel.off('message', listener);
}

async function reply(request: TelemetryRequest, options: TelemetryResponderOptions): Promise<TelemetryReply> {
  if (request.want === 'flows') return { type: REPLY, id: request.id, flows: options.flows?.() ?? { edges: [], overflow: { edges: 0 } } };
  const metrics = await Promise.all(options.registries.map((registry) => registry.getMetricsAsJSON()));
  return { type: REPLY, id: request.id, metrics };
}

let nextRequestId = 0;

async function askAll(peers: () => Iterable<TelemetryPeer>, want: Want, timeoutMs: number) {
  const connected = [...peers()].filter((peer) => peer.isConnected());
  const answers = await Promise.all(connected.map((peer) => ask(peer, want, timeoutMs)));
  return { asked: connected.length, replies: answers.filter((answer): answer is TelemetryReply => answer !== undefined) };
}

function ask(peer: TelemetryPeer, want: Want, timeoutMs: number): Promise<TelemetryReply | undefined> {
  const id = nextRequestId++;
  return new Promise((resolve) => {
    const done = (answer: TelemetryReply | undefined) => {
      clearTimeout(timer);
      peer.off('message', listener);
      resolve(answer);
    };
    const listener: Listener = (message) => {
      if (isReply(message, id)) done(message);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    peer.on('message', listener);
    peer.send({ type: REQUEST, id, want }, (error) => {
      if (error !== null) done(undefined); // the worker went away between listing and asking
    });
  });
}

/** Lets dashboards tell a partial aggregate (a worker busy or dying) from a complete one. */
function recordWorkerAnswers(registry: Registry, asked: number, answered: number): void {
  const gauge = new Gauge({
    name: 'meshwarden_cluster_scrape_workers',
    help: 'Workers asked for metrics in this scrape, by whether they answered in time.',
    labelNames: ['result'],
    registers: [registry],
  });
  gauge.set({ result: 'answered' }, answered);
  gauge.set({ result: 'missing' }, asked - answered);
}

function clusterWorkers(): Iterable<TelemetryPeer> {
  return Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
}

function isRequest(message: unknown): message is TelemetryRequest {
  return isRecord(message) && message['type'] === REQUEST && typeof message['id'] === 'number';
}

function isReply(message: unknown, id: number): message is TelemetryReply {
  return isRecord(message) && message['type'] === REPLY && message['id'] === id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
