/**
 * The HTTP batch sink: OPA's decision-log upload. Each batch is one POST of a gzip-compressed
 * JSON array of OPA-shaped events (Content-Encoding: gzip, Content-Type: application/json).
 * 2xx is delivered; 408, 429, 5xx, a timeout or a network error are retried; any other
 * status (a redirect included) refuses the batch for good: retrying the same bytes cannot fix it.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { buildInfo } from '../build-info.js';
import type { DecisionLine } from '../decision-line.js';
import { opaEvent, type OpaLabels } from './opa-event.js';
import type { ResolvedDecisionSinkOptions } from './options.js';
import type { SendOutcome, Transport } from './shipper.js';

const gzipAsync = promisify(gzip);

export function httpTransport(options: ResolvedDecisionSinkOptions): Transport<DecisionLine> {
  const labels: OpaLabels = { ...options.labels, app: 'meshwarden', id: randomUUID(), version: buildInfo().version };
  const headers = { ...options.headers, 'content-type': 'application/json', 'content-encoding': 'gzip' };
  return {
    encode: (entry) => JSON.stringify(opaEvent(entry.line, entry.timeMs, labels)),
    async send(batch, signal) {
      const body = await gzipAsync(`[${batch.encoded.join(',')}]`);
      return post(options.url, headers, body, AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]));
    },
    close: async () => undefined,
  };
}

async function post(url: string, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<SendOutcome> {
  try {
    // A redirect is not followed: it would hand the lines and the headers' credentials elsewhere.
    const response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    await response.arrayBuffer().catch(() => undefined); // drain, so the connection is reused
    return outcomeOf(response.status);
  } catch {
    return 'retry';
  }
}

export function outcomeOf(status: number): SendOutcome {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}
