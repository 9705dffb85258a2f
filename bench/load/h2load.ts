/**
 * Runs h2load against a gRPC Check endpoint with one pre-encoded request body, and parses its
 * summary; with a rate, per-request latencies come from its --log-file.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { percentile } from '../lib/stats.js';
import { CHECK_PATH } from '../lib/grpc-frame.js';

export interface H2loadRun {
  readonly seconds: number;
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly rps: number;
  readonly latencyUs?: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly command: string;
}

export interface H2loadSpec {
  readonly target: string;
  readonly bodyFile: string;
  readonly clients: number;
  readonly streams: number;
  /** Timed run (-D); otherwise a fixed request count (-n). */
  readonly durationS?: number;
  readonly requests?: number;
  /** Requests per second per client (--rps); latencies are then read from a log file. */
  readonly rpsPerClient?: number;
  readonly logFile?: string;
}

export function h2loadVersion(): string | undefined {
  const run = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

export function h2loadArgs(spec: H2loadSpec): string[] {
  const args = ['-t', '1', '-c', String(spec.clients), '-m', String(spec.streams), '-d', spec.bodyFile];
  args.push('-H', 'content-type: application/grpc', '-H', 'te: trailers');
  if (spec.durationS !== undefined) args.push('-D', `${Math.round(spec.durationS * 1000)}ms`);
  else args.push('-n', String(spec.requests ?? 1000));
  if (spec.rpsPerClient !== undefined) args.push(`--rps=${spec.rpsPerClient}`);
  if (spec.logFile !== undefined) args.push(`--log-file=${spec.logFile}`);
  args.push(`http://${spec.target}${CHECK_PATH}`);
  return args;
}

export function runH2load(spec: H2loadSpec): Promise<H2loadRun> {
  const args = h2loadArgs(spec);
  const command = `h2load ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`;
  const timeout = ((spec.durationS ?? 60) + 60) * 1000;
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(new Error(`${command}: ${error.message}\n${stdout}`));
      try {
        const parsed = parseSummary(stdout);
        const latencyUs = spec.logFile === undefined ? undefined : latencyFromLog(spec.logFile);
        resolve({ ...parsed, ...(latencyUs ? { latencyUs } : {}), command });
      } catch (parseError) {
        reject(new Error(`${command}: ${(parseError as Error).message}\n${stdout}`));
      }
    });
  });
}

/** "finished in 5.00s, 41234.20 req/s, ..." and "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout". */
export function parseSummary(stdout: string): Omit<H2loadRun, 'command' | 'latencyUs'> {
  const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(stdout);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  if (!finished || !requests) throw new Error('unrecognised h2load output');
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  return {
    seconds,
    rps: Number(finished[3]),
    done: Number(requests[3]),
    succeeded: Number(requests[4]),
    failed: Number(requests[5]),
    errored: Number(requests[6]),
  };
}

function latencyFromLog(file: string): H2loadRun['latencyUs'] {
  const lines = readFileSync(file, 'utf8').split('\n');
  rmSync(file, { force: true });
  const values = Float64Array.from(lines.filter((l) => l.length > 0).map((l) => Number(l.split('\t')[2])));
  values.sort();
  return { p50: percentile(values, 0.5), p90: percentile(values, 0.9), p99: percentile(values, 0.99), max: values[values.length - 1] ?? 0 };
}
