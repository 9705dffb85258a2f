/**
 * A hostile or broken receiver of the HTTP decision-log sink (OPA's upload), on 127.0.0.1: it
 * answers the batch, then keeps the connection busy. The answer's status is all the sink needs;
 * what follows the status is read only up to a small bound, so a receiver can neither fill the
 * process's memory nor hold the sink until its timeout.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSinkOptions } from '../../src/telemetry/decision-sinks/index.js';
import { httpTransport } from '../../src/telemetry/decision-sinks/http-transport.js';
import { otlpTransport } from '../../src/telemetry/decision-sinks/otlp-transport.js';
import type { DecisionLine } from '../../src/telemetry/decision-line.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  })));
});

/** A receiver answering 200 with a body that never ends, written as fast as the client takes it; counts the bytes taken. */
async function endlessReceiver(): Promise<{ url: string; written: () => number; closed: Promise<void> }> {
  let written = 0;
  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.on('close', closedResolve);
    const pump = (): void => {
      while (!response.destroyed) {
        written += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
    };
    pump();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`, written: () => written, closed };
}

const TIMEOUT_MS = 2_000;

/** The send's outcome, or `hung` when it has not settled well past its own timeout. */
function settled(send: Promise<string>): Promise<string> {
  return Promise.race([send, new Promise<string>((resolve) => setTimeout(() => resolve('hung'), TIMEOUT_MS * 3).unref())]);
}

describe('the HTTP decision-log sink against a receiver whose answer never ends', () => {
  it('takes the 200 as delivered, reads a bounded part of the body, and lets the connection go before its timeout', async () => {
    const receiver = await endlessReceiver();
    const [options] = resolveSinkOptions([{ type: 'http', url: receiver.url, timeoutMs: TIMEOUT_MS }]);
    const transport = httpTransport(options!);
    const started = performance.now();
    // before: 'hung' (the timeout, collected by a GC, never fired) or 'retry' (the batch sent again and again)
    const outcome = await settled(transport.send({ entries: [], encoded: ['{"decision_id":"d1"}'] }, new AbortController().signal));
    const tookMs = performance.now() - started;
    expect(outcome).toBe('sent');
    await receiver.closed;
    await transport.close();
    expect(tookMs).toBeLessThan(TIMEOUT_MS);
    expect(receiver.written()).toBeLessThan(16 * 1024 * 1024);
  });

  it('gives up on a receiver that answers 200 and then drips its body, within the timeout, and sends the batch again', async () => {
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(200);
      const drip = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(drip));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`;
    const [options] = resolveSinkOptions([{ type: 'http', url, timeoutMs: 500 }]);
    const transport = httpTransport(options!);
    // a GC now and then, as a busy server has: the deadline must survive it
    const pressure = setInterval(() => Buffer.alloc(8 * 1024 * 1024).fill(1), 20);
    try {
      expect(await settled(transport.send({ entries: [], encoded: ['{}'] }, new AbortController().signal))).toBe('retry');
    } finally {
      clearInterval(pressure);
      await transport.close();
    }
  });
});

describe('the OTLP decision-log sink against a receiver that drips its answer', () => {
  it('gives up on the batch at its timeout and sends it again, though bytes keep the socket busy', async () => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        const drip = setInterval(() => response.write(' '), 100);
        response.on('close', () => clearInterval(drip));
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
    const [options] = resolveSinkOptions([{ type: 'otlp', url, timeoutMs: 500 }]);
    const transport = otlpTransport(options!);
    const line = { decision: 'deny', reason: 'policy_deny', decision_id: 'd1' } as unknown as DecisionLine;
    const started = performance.now();
    // before: 'hung' (the exporter's timeout is its socket's idle time, which the drip resets)
    const outcome = await Promise.race([
      transport.send({ entries: [{ line, timeMs: Date.now(), deny: true, seq: 0 }], encoded: ['{}'] }, new AbortController().signal),
      new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 3_000).unref()),
    ]);
    expect(outcome).toBe('retry');
    expect(performance.now() - started).toBeLessThan(1_500);
    server.closeAllConnections();
    await transport.close();
  });
});
