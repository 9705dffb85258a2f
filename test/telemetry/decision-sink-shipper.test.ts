/**
 * The shipper's guards, with in-process transports standing in for a broken one (a real
 * receiver cannot make our own encoder or sender throw): a bug in a transport loses the lines
 * it touched, counted, and never the process or the sink; a buffer smaller than a batch is
 * sent as soon as it is full, not after the batch delay.
 */
import { describe, expect, it } from 'vitest';
import { resolveSinkOptions } from '../../src/telemetry/decision-sinks/options.js';
import { Shipper, type Batch, type SendOutcome, type Transport } from '../../src/telemetry/decision-sinks/shipper.js';
import { waitFor } from './decision-sink-receiver.js';

const options = (batch: { maxLines?: number; maxDelayMs?: number }, bufferMaxLines = 100) =>
  resolveSinkOptions([{ type: 'http', url: 'http://127.0.0.1:9/logs', batch, buffer: { maxLines: bufferMaxLines }, retry: { minDelayMs: 1, maxDelayMs: 1 } }])[0]!;

function transport(overrides: Partial<Transport<string>> = {}): Transport<string> & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    encode: (entry) => JSON.stringify(entry.line),
    send: async (batch: Batch<string>): Promise<SendOutcome> => {
      batches.push(batch.entries.map((e) => e.line));
      return 'sent';
    },
    close: async () => undefined,
    ...overrides,
  };
}

describe('a sink whose transport throws', () => {
  it('drops (as rejected) a line it cannot encode and ships the others', async () => {
    const t = transport({
      encode: (entry) => {
        if (entry.line === 'poison') throw new TypeError('cannot encode');
        return JSON.stringify(entry.line);
      },
    });
    const shipper = new Shipper(options({ maxLines: 10, maxDelayMs: 1 }), t);
    ['a', 'poison', 'b'].forEach((line) => shipper.enqueue(line, 0, false));
    await waitFor(() => shipper.stats().sentLines === 2, 2_000);
    expect(t.batches.flat()).toEqual(['a', 'b']);
    expect(shipper.drops.samples()).toEqual([{ sink: 'http', reason: 'rejected', count: 1 }]);
  });

  it('drops (as rejected) a batch whose send throws, and sends the next one', async () => {
    let calls = 0;
    const t = transport();
    const send = t.send;
    t.send = async (batch, signal) => {
      if (calls++ === 0) throw new Error('bug');
      return send(batch, signal);
    };
    const shipper = new Shipper(options({ maxLines: 2, maxDelayMs: 1 }), t);
    ['a', 'b'].forEach((line) => shipper.enqueue(line, 0, true));
    await waitFor(() => shipper.drops.total() === 2, 2_000);
    shipper.enqueue('c', 0, true);
    await waitFor(() => shipper.stats().sentLines === 1, 2_000);
    expect(t.batches).toEqual([['c']]);
  });
});

describe('a sink whose buffer is smaller than a batch', () => {
  it('sends a full buffer at once instead of waiting for the batch delay', async () => {
    const t = transport();
    const shipper = new Shipper(options({ maxLines: 500, maxDelayMs: 3_600_000 }, 4), t);
    ['a', 'b', 'c', 'd'].forEach((line) => shipper.enqueue(line, 0, false));
    await waitFor(() => t.batches.length === 1, 2_000);
    expect(t.batches).toEqual([['a', 'b', 'c', 'd']]);
    await shipper.close(100);
  });
});
