/**
 * `grpc.transport: grpc-js` end to end: the built `meshwarden serve` as a real process, with
 * the example policies, answers Health and Check over grpc-js' server and drains on SIGTERM.
 */
import http2 from 'node:http2';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../../helpers/check-client.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';
import { REPO_ROOT, startServer, type ServerProcess } from '../../helpers/server-process.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const CONFIG = [
  'grpc: { transport: grpc-js }',
  `policies: [${JSON.stringify(join(REPO_ROOT, 'examples/policies'))}]`,
  'reload: { watch: false }',
  'decisionLog: { output: stdout, allowSampleRate: 1 }',
].join('\n');

describe('meshwarden serve with grpc.transport grpc-js', () => {
  let server: ServerProcess;
  let client: CheckClient;

  beforeAll(async () => {
    server = await startServer({ configText: CONFIG });
    client = new CheckClient(server.grpc, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('reports SERVING and answers Check with the policy decision', async () => {
    expect(await client.health()).toBe('SERVING');
    const allowed = await client.check(httpCheck({ principal: CHECKOUT, method: 'POST', path: '/v1/charges', service: 'payments' }));
    expect(allowed.status?.code ?? status.OK).toBe(status.OK);
    expect(structToJson(allowed.dynamicMetadata)).toMatchObject({ decision: 'allow', policy: 'payments-api' });
    const denied = await client.check(httpCheck({ principal: CHECKOUT, method: 'DELETE', path: '/v1/charges', service: 'payments' }));
    expect(denied.status?.code).toBe(status.PERMISSION_DENIED);
    await expect.poll(() => server.decisions.map((line) => line['decision'])).toEqual(['allow', 'deny']);
  });

  it('is served by grpc-js, which names its content type application/grpc+proto (ours says application/grpc)', async () => {
    const session = http2.connect(`http://${server.grpc}`);
    const contentType = await new Promise((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('response', (headers) => resolve(headers['content-type']));
      stream.on('error', reject);
      stream.resume();
      stream.end(grpcFrame(Buffer.alloc(0)));
    }).finally(() => session.close());
    expect(contentType).toBe('application/grpc+proto');
  });

  it('starts without a warning: on grpc-js too the buffered-bytes budget holds and an oversized Check is denied, not failed', async () => {
    await server.waitForLog((line) => line['msg'] === 'listening');
    const warnings = server.logs.filter((line) => Number(line['level']) >= 40);
    expect(warnings).toEqual([]);
    expect(server.logs.find((line) => line['msg'] === 'listening')).toMatchObject({ transport: 'grpc-js' });
  });

  it('drains and exits 0 on SIGTERM', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});
