import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, type Client, type ServiceDefinition } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { Decision } from '../../../src/domain/index.js';
import type { CheckResponseMessage } from '../../../src/envoy/index.js';
import { decodeCheckResponse, encodeCheckRequest, type CheckRequestMessage } from '../../../src/envoy/index.js';
import {
  AUTHORIZATION_SERVICE_NAME,
  CHECK_METHOD_PATH,
  startGrpcServer,
  type GrpcTransport,
  type RunningGrpcServer,
} from '../../../src/server/grpc/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';

const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };
const authorization = () => createAuthorizationService(decidedBy(() => ALLOW));

type Unary<Req, Res> = (request: Req, callback: (error: Error | null, response?: Res) => void) => void;
const HealthClient = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, 'Health');
const AuthorizationClient = makeGenericClientConstructor(
  {
    Check: {
      path: CHECK_METHOD_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (message: CheckRequestMessage) => Buffer.from(encodeCheckRequest(message)),
      requestDeserialize: () => ({}),
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (bytes: Buffer) => decodeCheckResponse(bytes),
    },
  },
  'Authorization',
);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startOn(transport: GrpcTransport, address: string, initiallyServing?: boolean): Promise<RunningGrpcServer> {
  const running = await startGrpcServer({ address, transport, authorization: authorization(), initiallyServing });
  cleanups.push(() => running.close(500));
  return running;
}

function connect<T>(Constructor: typeof HealthClient, address: string): Client & T {
  const client = new Constructor(address, credentials.createInsecure()) as Client & T;
  cleanups.push(() => client.close());
  return client;
}

function call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => method(request, (error, response) => (error || !response ? reject(error) : resolve(response))));
}

async function healthOf(address: string, service: string): Promise<string> {
  const client = connect<{ check: Unary<{ service: string }, { status: string }> }>(HealthClient, address);
  return (await call(client.check.bind(client), { service })).status;
}

describe.each(['native', 'grpc-js'] as const)('startGrpcServer on %s', (transport) => {
  const start = (address: string, initiallyServing?: boolean) => startOn(transport, address, initiallyServing);

  it('binds 127.0.0.1:0 to a free port and reports the real address', async () => {
    const running = await start('127.0.0.1:0');
    expect(running.port).toBeGreaterThan(0);
    expect(running.address).toBe(`127.0.0.1:${running.port}`);
  });

  it('reports NOT_SERVING until told otherwise, for the server and the Authorization service', async () => {
    const running = await start('127.0.0.1:0');
    for (const name of ['', AUTHORIZATION_SERVICE_NAME]) expect(await healthOf(running.address, name)).toBe('NOT_SERVING');
    running.health.setServing(true);
    for (const name of ['', AUTHORIZATION_SERVICE_NAME]) expect(await healthOf(running.address, name)).toBe('SERVING');
  });

  it('serves Check on a unix socket in a temporary directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshwarden-grpc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const address = `unix:${path.join(dir, 'authz.sock')}`;
    const running = await start(address, true);
    expect(running).toMatchObject({ address, port: undefined });
    const client = connect<{ Check: Unary<object, CheckResponseMessage> }>(AuthorizationClient as typeof HealthClient, address);
    const response = await call(client.Check.bind(client), {
      attributes: { request: { http: { method: 'GET', path: '/health', host: 'svc' } } },
    });
    expect(response.status.code).toBe(0);
    expect(response.okResponse).toBeDefined();
  });

  it('reclaims a unix socket left behind by a crashed process, but never a live server\'s', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshwarden-grpc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const socket = path.join(dir, 'authz.sock');
    spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => process.exit(0))`]);
    expect(existsSync(socket)).toBe(true);
    const running = await start(`unix:${socket}`, true);
    await expect(startGrpcServer({ address: running.address, transport, authorization: authorization() })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await healthOf(running.address, '')).toBe('SERVING');
  });

  it('reports NOT_SERVING and stops accepting calls once closed', async () => {
    const running = await startGrpcServer({ address: '127.0.0.1:0', transport, authorization: authorization(), initiallyServing: true });
    await running.close(500);
    expect(running.health.serving).toBe(false);
    await expect(healthOf(running.address, '')).rejects.toThrow();
  });

  it.each(['', 'localhost', 'localhost:http', '127.0.0.1:70000', 'unix:'])('refuses the address %j at start-up', async (address) => {
    await expect(startGrpcServer({ address, transport, authorization: authorization() })).rejects.toThrow(TypeError);
  });
});
