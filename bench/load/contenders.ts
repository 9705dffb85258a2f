/**
 * The load contenders of one run: the servers (ceiling, baseline, meshwarden in several
 * configurations) and, per contender, which server it loads, with which driver and input.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadFixtures } from './fixtures.js';

export type Driver = 'h2load' | 'sender';

export interface ServerSpec {
  readonly key: string;
  /** Arguments to node; relative to the repository root. */
  readonly args: readonly string[];
  readonly meshwarden: boolean;
  readonly workers: number;
}

export interface Contender {
  readonly id: string;
  readonly label: string;
  readonly server: string;
  readonly driver: Driver;
  /** h2load: one frame posted as the body; sender: a file of concatenated frames. */
  readonly input: string;
  /** The CheckResponse status code the input should get (0 allow). */
  readonly expectCode: number;
}

const MESHWARDEN = 'dist/cli/main.js';
const n = (v: number) => v.toLocaleString('en');
const LISTEN = ['--grpc', '127.0.0.1:0'];

export function serverSpecs(f: LoadFixtures, benchOut: string): ServerSpec[] {
  const config = (name: string, body: Record<string, unknown>) => {
    const file = join(f.dir, `${name}.yaml`);
    const base = { defaultAction: 'DENY', decisionLog: { output: 'off' }, reload: { watch: false } };
    writeFileSync(file, JSON.stringify({ ...base, ...body }, null, 1));
    return file;
  };
  const cache = (enabled: boolean, max = 100_000) => ({ cache: { decisions: { enabled, max, ttl: '60s' } } });
  const identity = (tokenCacheMax: number) => ({
    identity: {
      trustDomains: { 'prod.example': { bundle: f.bundle } },
      jwtSvid: { audiences: ['meshwarden'] },
      tokenCache: { max: tokenCacheMax, maxTtl: '5m' },
    },
  });
  const mw = (key: string, body: Record<string, unknown>, workers = 1): ServerSpec => ({
    key,
    args: [MESHWARDEN, 'serve', '--config', config(key, body), ...LISTEN, '--admin', '127.0.0.1:0', ...(workers > 1 ? ['--workers', String(workers)] : [])],
    meshwarden: true,
    workers,
  });
  const p1k = { policies: [f.policyFiles.mid] };
  return [
    { key: 'ceiling', args: [join(benchOut, 'bench/servers/ceiling.js'), ...LISTEN], meshwarden: false, workers: 1 },
    { key: 'grpc-ceiling', args: [join(benchOut, 'bench/servers/grpc-ceiling.js'), ...LISTEN], meshwarden: false, workers: 1 },
    { key: 'baseline', args: [join(benchOut, 'bench/servers/baseline.js'), ...LISTEN], meshwarden: false, workers: 1 },
    mw('mw-hit', { ...p1k, ...cache(true) }),
    mw('mw-grpcjs-hit', { ...p1k, ...cache(true), grpc: { transport: 'grpc-js' } }),
    mw('mw-miss', { ...p1k, ...cache(true, Math.max(1, Math.floor(f.distinctCount / 20))) }), // far fewer entries than distinct requests
    mw('mw-jwt-hit', { ...p1k, ...cache(true), ...identity(10_000) }),
    mw('mw-jwt-miss', { ...p1k, ...cache(true), ...identity(1) }),
    mw('mw-small', { policies: [f.policyFiles.small], ...cache(false) }),
    mw('mw-mid', { ...p1k, ...cache(false) }),
    mw('mw-large', { policies: [f.policyFiles.large], ...cache(false) }),
    mw('mw-2w', { ...p1k, ...cache(true) }, 2),
  ];
}

export function contenders(f: LoadFixtures): Contender[] {
  const hit = f.allowedFrame.mid;
  return [
    { id: 'ceiling', label: 'raw ceiling: node:http2, constant reply, no trailers', server: 'ceiling', driver: 'h2load', input: hit, expectCode: 0 },
    { id: 'grpc-ceiling', label: 'gRPC-shaped ceiling: node:http2, constant reply + grpc-status trailers', server: 'grpc-ceiling', driver: 'h2load', input: hit, expectCode: 0 },
    { id: 'baseline', label: 'baseline: grpc-js + proto-loader, constant OK', server: 'baseline', driver: 'h2load', input: hit, expectCode: 0 },
    { id: 'mw-hit', label: 'meshwarden (native), decision-cache hit (1,000 rules)', server: 'mw-hit', driver: 'h2load', input: hit, expectCode: 0 },
    { id: 'mw-grpcjs-hit', label: 'meshwarden (grpc-js), decision-cache hit (1,000 rules)', server: 'mw-grpcjs-hit', driver: 'h2load', input: hit, expectCode: 0 },
    { id: 'mw-hit-sender', label: 'meshwarden, decision-cache hit, node sender', server: 'mw-hit', driver: 'sender', input: hit, expectCode: 0 },
    { id: 'mw-miss', label: `meshwarden, decision-cache miss (${f.distinctCount.toLocaleString('en')} distinct), node sender`, server: 'mw-miss', driver: 'sender', input: f.distinctFrames, expectCode: -1 },
    { id: 'mw-jwt-hit', label: 'meshwarden, JWT-SVID, token-cache hit', server: 'mw-jwt-hit', driver: 'h2load', input: f.jwtFrame, expectCode: 0 },
    { id: 'mw-jwt-miss', label: `meshwarden, JWT-SVID, token-cache miss (${f.tokenCount.toLocaleString('en')} tokens), node sender`, server: 'mw-jwt-miss', driver: 'sender', input: f.jwtFrames, expectCode: 0 },
    { id: 'mw-small', label: `meshwarden, ${n(f.rules.small)} rules, no decision cache`, server: 'mw-small', driver: 'h2load', input: f.allowedFrame.small, expectCode: 0 },
    { id: 'mw-mid', label: `meshwarden, ${n(f.rules.mid)} rules, no decision cache`, server: 'mw-mid', driver: 'h2load', input: f.allowedFrame.mid, expectCode: 0 },
    { id: 'mw-large', label: `meshwarden, ${n(f.rules.large)} rules, no decision cache`, server: 'mw-large', driver: 'h2load', input: f.allowedFrame.large, expectCode: 0 },
    { id: 'mw-2w', label: 'meshwarden, decision-cache hit, 2 workers', server: 'mw-2w', driver: 'h2load', input: hit, expectCode: 0 },
  ];
}
