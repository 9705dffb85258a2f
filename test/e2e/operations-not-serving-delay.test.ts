/**
 * shutdown.notServingDelay: after SIGTERM the server reports NOT_SERVING at once but keeps
 * answering Checks for the delay, so balancers move away before the listener closes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { adminGet } from './operations-support.js';

const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: status }
spec:
  rules: [{ to: [{ operation: { paths: ["/status"] } }] }]
`;

let server: ServerProcess | undefined;
let client: CheckClient | undefined;

afterEach(async () => {
  client?.close();
  await server?.stop('SIGKILL');
});

describe('shutdown.notServingDelay', () => {
  it('keeps answering Checks while reporting NOT_SERVING, then exits 0', async () => {
    const dir = tempDir('meshwarden-delay-');
    writeFileSync(join(dir, 'status.yaml'), POLICY);
    server = await startServer({
      configDir: dir,
      configText: 'policies: ["./status.yaml"]\ndecisionLog: { output: off }\nshutdown: { notServingDelay: 2s, drainTimeout: 2s }\n',
    });
    client = new CheckClient(server.grpc);
    const exited = server.stop('SIGTERM');
    await expect.poll(async () => (await adminGet(server!.admin, '/readyz')).status, { timeout: 5_000, interval: 20 }).toBe(503);
    expect(await client.health('envoy.service.auth.v3.Authorization')).toBe('NOT_SERVING');
    const answer = await client.check(httpCheck({ principal: 'spiffe://td/ns/a/sa/b', path: '/status' }));
    expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow' });
    expect(await exited).toBe(0);
    server = undefined;
  });
});
