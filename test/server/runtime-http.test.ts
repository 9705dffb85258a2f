/**
 * startRuntime with the HTTP ext_authz listener on (http.address): off unless asked for; when on,
 * it answers through the same pipeline and telemetry as the gRPC listener, tells readiness on
 * /healthz, starts only if it can listen (letting the gRPC listener go otherwise) and closes
 * on shutdown.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawConfig } from '../../src/config/build.js';
import { startRuntime, type Runtime } from '../../src/server/runtime.js';
import { httpRequest, rawExchange } from '../helpers/raw-http1.js';
import { CALLER, configWith as configWithFiles, POLICY, quiet } from './runtime-fixtures.js';

const configWith = (raw: RawConfig) => configWithFiles({ 'policy.yaml': POLICY }, raw);
const running: Runtime[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((runtime) => runtime.shutdown()));
});

async function start(raw: RawConfig): Promise<Runtime> {
  const runtime = await startRuntime(configWith(raw), quiet);
  running.push(runtime);
  return runtime;
}

function listening(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

async function freePort(): Promise<number> {
  const server = await listening(0);
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const ask = (runtime: Runtime, principal: string) =>
  rawExchange(runtime.httpAddress!, [
    httpRequest('GET', '/authz/v1/charges', [['host', 'payments'], ['x-meshwarden-source-principal', principal], ['x-meshwarden-context-service', 'payments']]),
  ]);

describe('startRuntime with the HTTP ext_authz listener', () => {
  it('has none unless http.address says where', async () => {
    expect((await start({})).httpAddress).toBeUndefined();
  });

  it('decides through the same pipeline and telemetry as gRPC Checks', async () => {
    const runtime = await start({ http: { address: '127.0.0.1:0', pathPrefix: '/authz' } });
    expect((await ask(runtime, CALLER)).status).toBe(200);
    expect((await ask(runtime, 'spiffe://prod.example/ns/shop/sa/web')).status).toBe(403);
    expect(runtime.telemetry.flows.toJSON().edges).toEqual(expect.arrayContaining([expect.objectContaining({ source: CALLER, destination: 'payments' })]));
  });

  it('does not start when the HTTP listener cannot listen, and lets go of the gRPC listener it had started', async () => {
    const taken = await listening(0);
    const grpcPort = await freePort();
    const config = configWith({ grpc: { address: `127.0.0.1:${grpcPort}` }, http: { address: `127.0.0.1:${portOf(taken)}` } });
    await expect(startRuntime(config, quiet)).rejects.toThrow(/EADDRINUSE/);
    taken.close();
    (await listening(grpcPort)).close(); // the gRPC port is free again
  });

  it('says not ready on /healthz from the moment shutdown begins, and closes the listener', async () => {
    const runtime = await startRuntime(configWith({ http: { address: '127.0.0.1:0', pathPrefix: '/authz' }, shutdown: { notServingDelay: '300ms' } }), quiet);
    const health = () => rawExchange(runtime.httpAddress!, [httpRequest('GET', '/healthz', [['host', 'meshwarden']])]);
    expect((await health()).status).toBe(200);
    const stopped = runtime.shutdown();
    expect((await health()).status).toBe(503);
    await stopped;
    expect(await health()).toMatchObject({ status: 0, closed: true });
  });
});
