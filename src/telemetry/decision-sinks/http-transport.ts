/**
 * The HTTP batch sink: OPA's decision-log upload. Each batch is one POST of a gzip-compressed
 * JSON array of OPA-shaped events (Content-Encoding: gzip, Content-Type: application/json).
 * 2xx is delivered; 408, 429, 5xx, a timeout or a network error are retried; any other
 * status (a redirect included) refuses the batch for good: retrying the same bytes cannot fix it.
 * Sent with node:http(s) rather than fetch, whose built-in client takes no CA: an https
 * receiver is verified against the sink's `caFile` when it has one, a failed handshake retried.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { buildInfo } from '../build-info.js';
import { deadlineSignal } from './deadline-signal.js';
import type { DecisionLine } from '../decision-line.js';
import { opaEvent, type OpaLabels } from './opa-event.js';
import type { ResolvedDecisionSinkOptions } from './options.js';
import type { SendOutcome, Transport } from './shipper.js';

const gzipAsync = promisify(gzip);

export function httpTransport(options: ResolvedDecisionSinkOptions): Transport<DecisionLine> {
  const labels: OpaLabels = { ...options.labels, app: 'meshwarden', id: randomUUID(), version: buildInfo().version };
  const headers = { ...options.headers, 'content-type': 'application/json', 'content-encoding': 'gzip' };
  const url = new URL(options.url);
  const agent = agentFor(url, options.ca);
  return {
    encode: (entry) => JSON.stringify(opaEvent(entry.line, entry.timeMs, labels)),
    async send(batch, signal) {
      const body = await gzipAsync(`[${batch.encoded.join(',')}]`);
      return post(url, agent, headers, body, deadlineSignal(signal, options.timeoutMs));
    },
    close: async () => agent.destroy(),
  };
}

/** Connections kept alive between batches; over https, trusting only `ca` when given. */
function agentFor(url: URL, ca: string | undefined): HttpAgent {
  if (url.protocol === 'http:') return new HttpAgent({ keepAlive: true });
  return new HttpsAgent({ keepAlive: true, ...(ca === undefined ? {} : { ca }) });
}

/** A redirect is not followed (node:http never does): it would hand the lines and the headers' credentials elsewhere. */
function post(url: URL, agent: HttpAgent, headers: OutgoingHttpHeaders, body: Buffer, signal: AbortSignal): Promise<SendOutcome> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const headersWithLength = { ...headers, 'content-length': body.length };
    const request = send(url, { method: 'POST', headers: headersWithLength, agent, signal }, (response) => {
      const outcome = outcomeOf(response.statusCode ?? 0);
      let read = 0;
      response.on('error', () => resolve('retry'));
      response.on('end', () => resolve(outcome));
      response.on('close', () => resolve('retry')); // cut off before its end
      // drained, so the connection is reused; an answer longer than any receiver's is let go, its status taken
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read <= MAX_ANSWER_BYTES) return;
        resolve(outcome);
        response.destroy();
      });
    });
    request.on('error', () => resolve('retry')); // refused, reset, timed out, aborted, or a failed TLS handshake
    request.end(body);
  });
}

/** More than an answer to a batch ever needs to say: a receiver streaming on is cut off. */
const MAX_ANSWER_BYTES = 64 * 1024;

export function outcomeOf(status: number): SendOutcome {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}
