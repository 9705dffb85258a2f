/**
 * h2load against Envoy's listener: plain HTTP requests (h2, or HTTP/1.1 with --h1), one URL or
 * a file of URLs (-i, for distinct paths), headers for the authority, identity and tenant.
 * Counts every answered request (2xx and 403 alike: a deny is a decision too) and, at a
 * fixed rate, reads per-request latencies from its --log-file.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { parseSummary } from '../load/h2load.js';
import { percentile } from '../lib/stats.js';

export interface HttpLoadSpec {
  /** One URL, or a file of URLs (one per line, same scheme/host/port). */
  readonly url?: string;
  readonly urlFile?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly clients: number;
  readonly streams: number;
  readonly durationS: number;
  readonly h1: boolean;
  readonly rpsPerClient?: number;
  readonly logFile?: string;
}

export interface HttpLoadRun {
  readonly seconds: number;
  /** Requests answered with any HTTP status. */
  readonly answered: number;
  readonly status2xx: number;
  readonly status4xx: number;
  readonly status5xx: number;
  readonly errored: number;
  readonly latencyUs?: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly n: number };
  readonly command: string;
}

export function httpLoadArgs(s: HttpLoadSpec): string[] {
  const args = ['-t', '1', '-c', String(s.clients), '-m', String(s.streams), '-D', `${Math.round(s.durationS * 1000)}ms`];
  if (s.h1) args.push('--h1');
  for (const [k, v] of Object.entries(s.headers)) args.push('-H', `${k}: ${v}`);
  if (s.rpsPerClient !== undefined) args.push(`--rps=${s.rpsPerClient}`);
  if (s.logFile !== undefined) args.push(`--log-file=${s.logFile}`);
  if (s.urlFile !== undefined) args.push('-i', s.urlFile);
  else args.push(s.url!);
  return args;
}

export function quoteArgs(file: string, args: readonly string[]): string {
  return `${file} ${args.map((a) => (/[\s;]/.test(a) ? `'${a}'` : a)).join(' ')}`;
}

export function runHttpLoad(s: HttpLoadSpec): Promise<HttpLoadRun> {
  const args = httpLoadArgs(s);
  const command = quoteArgs('h2load', args);
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout: (s.durationS + 30) * 1000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(new Error(`${command}: ${error.message}\n${stdout}`));
      try {
        const summary = parseSummary(stdout);
        const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
        if (!codes) throw new Error('no status codes line');
        const [c2, c3, c4, c5] = codes.slice(1).map(Number) as [number, number, number, number];
        const latencyUs = s.logFile === undefined ? undefined : latencyFromLog(s.logFile);
        resolve({
          seconds: summary.seconds, answered: c2 + c3 + c4 + c5, status2xx: c2, status4xx: c4, status5xx: c5,
          errored: summary.errored, ...(latencyUs ? { latencyUs } : {}), command,
        });
      } catch (parseError) {
        reject(new Error(`${command}: ${(parseError as Error).message}\n${stdout}`));
      }
    });
  });
}

/** h2load's log: start time, status, duration in µs (tab separated), one line per request. */
function latencyFromLog(file: string): HttpLoadRun['latencyUs'] {
  const lines = readFileSync(file, 'utf8').split('\n');
  rmSync(file, { force: true });
  const values = Float64Array.from(lines.filter((l) => l.length > 0).map((l) => Number(l.split('\t')[2])));
  values.sort();
  return { p50: percentile(values, 0.5), p90: percentile(values, 0.9), p99: percentile(values, 0.99), max: values[values.length - 1] ?? 0, n: values.length };
}
