/**
 * The reproduction that once killed 14 workers in 20 s: under `serve --workers 2`, a client
 * loops HEADERS + part of a body + RST_STREAM(NO_ERROR) at the gRPC port while a legitimate
 * client keeps checking. No worker exits, and every legitimate Check is answered. (The
 * deadline is generous because the suite shares two cores; a dying worker fails calls
 * outright, whatever the deadline.)
 */
import http2 from 'node:http2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CheckClient, httpCheck } from '../helpers/check-client.js';
import { grpcFrame } from '../helpers/grpc-frame.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { CART, ordersAllowing } from '../helpers/orders-policy.js';

let server: ServerProcess;

beforeAll(async () => {
  const dir = tempDir('meshwarden-hostile-');
  writeFileSync(join(dir, 'orders.yaml'), ordersAllowing(CART));
  server = await startServer({
    configDir: dir,
    configText: ['policies: [./orders.yaml]', 'decisionLog: { output: off }'].join('\n'),
    args: ['--workers', '2'],
  });
  await server.waitForLog((line) => line['msg'] === 'worker listening', 15_000);
});

afterAll(async () => {
  await server?.stop();
});

/** For `durationMs`: new connections, each opening streams that send part of a Check and reset with NO_ERROR. */
async function resetLoop(durationMs: number): Promise<number> {
  const partial = grpcFrame(Buffer.alloc(64)).subarray(0, 20);
  const until = Date.now() + durationMs;
  let resets = 0;
  while (Date.now() < until && resets < 50_000) {
    const session = http2.connect(`http://${server.grpc}`);
    session.on('error', () => {});
    for (let i = 0; i < 50; i += 1) {
      const stream = session.request({ ':method': 'POST', ':path': '/envoy.service.auth.v3.Authorization/Check', 'content-type': 'application/grpc' });
      stream.on('error', () => {});
      stream.write(partial);
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
      resets += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    session.destroy();
  }
  return resets;
}

it('keeps every worker and answers every legitimate Check while a client loops mid-body resets', async () => {
  const client = new CheckClient(server.grpc, { deadlineMs: 3_000 });
  const legitimate = (async () => {
    let answered = 0;
    let missed = 0;
    for (let i = 0; i < 200; i += 1) {
      try {
        await client.check(httpCheck({ principal: CART, path: '/orders/1', service: 'orders' }));
        answered += 1;
      } catch {
        missed += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { answered, missed };
  })();
  const [resets, { answered, missed }] = await Promise.all([resetLoop(4_000), legitimate]);
  client.close();
  expect(resets).toBeGreaterThan(1_000);
  expect(server.logs.filter((line) => line['msg'] === 'worker exited; starting a replacement')).toEqual([]);
  expect(missed).toBe(0);
  expect(answered).toBe(200);
}, 30_000);
