/**
 * A small node:http2 gRPC frame sender for loads h2load cannot make: many distinct requests
 * (h2load posts one body). Reads a file of concatenated gRPC frames and sends them in turn,
 * closed loop (C connections × M streams) or open loop at a fixed rate. Bounded by a duration
 * and a request count; prints one JSON line of results on stdout.
 *
 *   node sender.js --target 127.0.0.1:PORT --frames FILE [--connections 4] [--streams 32]
 *                  [--duration 5] [--max-requests 1000000] [--rate 0] [--latencies]
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { parseArgs } from 'node:util';
import { percentile } from '../lib/stats.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const HEADERS = { ':method': 'POST', ':path': CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' };
const MAX_IN_FLIGHT_OPEN_LOOP = 2_000;

export interface SenderResult {
  readonly requests: number;
  readonly ok: number;
  readonly grpcErrors: number;
  readonly transportErrors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly latencyUs?: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
}

/** Splits concatenated gRPC frames by their 5-byte length prefixes. */
export function splitFrames(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = at + 5 + bytes.readUInt32BE(at + 1);
    if (end > bytes.length) throw new Error('truncated frames file');
    frames.push(bytes.subarray(at, end));
    at = end;
  }
  return frames;
}

interface Options {
  target: string;
  frames: Buffer[];
  connections: number;
  streams: number;
  durationS: number;
  maxRequests: number;
  rate: number;
  latencies: boolean;
}

async function run(o: Options): Promise<SenderResult> {
  const sessions = await Promise.all(Array.from({ length: o.connections }, () => connect(o.target)));
  const latencies: number[] = [];
  let issued = 0;
  let inFlight = 0;
  let ok = 0;
  let grpcErrors = 0;
  let transportErrors = 0;
  let stopped = false;
  const started = process.hrtime.bigint();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const send = (session: http2.ClientHttp2Session, onDone: () => void): void => {
    const frame = o.frames[issued++ % o.frames.length]!;
    inFlight++;
    const t0 = process.hrtime.bigint();
    let status: string | undefined;
    let answeredNs: bigint | undefined;
    const stream = session.request(HEADERS);
    // Latency ends when the status arrives, not at 'close', which comes a few ticks later.
    stream.on('trailers', (trailers) => {
      status = String(trailers['grpc-status']);
      answeredNs = process.hrtime.bigint();
    });
    stream.on('response', (headers) => {
      if (headers['grpc-status'] === undefined) return;
      status = String(headers['grpc-status']); // trailers-only answer
      answeredNs = process.hrtime.bigint();
    });
    stream.on('data', () => {});
    stream.on('error', () => transportErrors++);
    stream.on('close', () => {
      inFlight--;
      if (status === '0') ok++;
      else if (status !== undefined) grpcErrors++;
      else transportErrors++;
      if (o.latencies) latencies.push(Number((answeredNs ?? process.hrtime.bigint()) - t0) / 1000);
      onDone();
    });
    stream.end(frame);
  };
  const maybeFinish = (): void => {
    if (stopped && inFlight === 0) finish();
  };
  const timer = setTimeout(() => (stopped = true), o.durationS * 1000);

  if (o.rate > 0) {
    let next = 0;
    const tick = setInterval(() => {
      if (stopped) return void (clearInterval(tick), maybeFinish());
      const due = Math.floor((Number(process.hrtime.bigint() - started) / 1e9) * o.rate);
      while (issued < due && issued < o.maxRequests && inFlight < MAX_IN_FLIGHT_OPEN_LOOP) {
        send(sessions[next++ % sessions.length]!, maybeFinish);
      }
      if (issued >= o.maxRequests) stopped = true;
    }, 1);
  } else {
    const loop = (session: http2.ClientHttp2Session) => (): void => {
      if (stopped || issued >= o.maxRequests) return void ((stopped = true), maybeFinish());
      send(session, loop(session));
    };
    for (const session of sessions) for (let s = 0; s < o.streams; s++) loop(session)();
  }
  await done;
  clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const session of sessions) session.close();
  const requests = ok + grpcErrors + transportErrors;
  const result: SenderResult = { requests, ok, grpcErrors, transportErrors, seconds, rps: requests / seconds };
  if (!o.latencies) return result;
  const sorted = Float64Array.from(latencies).sort();
  const latencyUs = { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 };
  return { ...result, latencyUs };
}

function connect(target: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${target}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      frames: { type: 'string' },
      connections: { type: 'string', default: '4' },
      streams: { type: 'string', default: '32' },
      duration: { type: 'string', default: '5' },
      'max-requests': { type: 'string', default: '5000000' },
      rate: { type: 'string', default: '0' },
      latencies: { type: 'boolean', default: false },
    },
  });
  if (!values.target || !values.frames) throw new TypeError('sender: --target and --frames are required');
  const durationS = Math.min(Number(values.duration), 120); // bounded whatever the caller asks
  const result = await run({
    target: values.target,
    frames: splitFrames(readFileSync(values.frames)),
    connections: Number(values.connections),
    streams: Number(values.streams),
    durationS,
    maxRequests: Number(values['max-requests']),
    rate: Number(values.rate),
    latencies: values.latencies,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
