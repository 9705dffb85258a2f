import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer, type AdminServerOptions, type HealthStatus } from '../../../src/server/admin/index.js';

const running: AdminServer[] = [];

const BARE: AdminServerOptions = {
  address: '127.0.0.1:0',
  metrics: async () => '',
  contentType: 'text/plain',
  health: () => ({ live: true, ready: true }),
  policyInfo: () => ({}),
};

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

interface Fixture {
  health: HealthStatus;
  server: AdminServer;
  get(path: string, method?: string): Promise<{ status: number; body: string; headers: Headers }>;
}

async function start(overrides: Partial<AdminServerOptions> = {}): Promise<Fixture> {
  const fixture = { health: { live: true, ready: true } as HealthStatus } as Fixture;
  const server = await startAdminServer({
    address: '127.0.0.1:0',
    metrics: async () => 'meshwarden_checks_total{decision="allow",reason="policy_allow"} 3\n',
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    health: () => fixture.health,
    policyInfo: () => ({ generation: 4, hash: 'abc', files: ['policies/payments.yaml'], policies: 2, rules: 5 }),
    flows: async () => ({ edges: [], overflow: { edges: 0 } }),
    ...overrides,
  });
  running.push(server);
  fixture.server = server;
  fixture.get = async (path, method = 'GET') => {
    const response = await fetch(`http://${server.address}${path}`, { method });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };
  return fixture;
}

describe('startAdminServer', () => {
  it('listens on the port the OS picked when asked for :0', async () => {
    const { server } = await start();
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it.each([
    ['/metrics', 200, 'text/plain; version=0.0.4; charset=utf-8', 'meshwarden_checks_total{decision="allow",reason="policy_allow"} 3\n'],
    ['/metrics?name[]=x', 200, 'text/plain; version=0.0.4; charset=utf-8', 'meshwarden_checks_total{decision="allow",reason="policy_allow"} 3\n'],
    ['/healthz', 200, 'text/plain; charset=utf-8', 'ok\n'],
    ['/readyz', 200, 'text/plain; charset=utf-8', 'ready\n'],
    ['/policy', 200, 'application/json; charset=utf-8', '{"generation":4,"hash":"abc","files":["policies/payments.yaml"],"policies":2,"rules":5}\n'],
    ['/flows', 200, 'application/json; charset=utf-8', '{"edges":[],"overflow":{"edges":0}}\n'],
    ['/', 404, 'text/plain; charset=utf-8', 'not found\n'],
    ['/metrics/', 404, 'text/plain; charset=utf-8', 'not found\n'],
    ['/debug/pprof', 404, 'text/plain; charset=utf-8', 'not found\n'],
  ])('answers GET %s with %i', async (path, status, contentType, body) => {
    const reply = await (await start()).get(path);
    expect(reply).toMatchObject({ status, body });
    expect(reply.headers.get('content-type')).toBe(contentType);
    expect(reply.headers.get('cache-control')).toBe('no-store');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('answers %s with 405 and the allowed methods', async (method) => {
    const reply = await (await start()).get('/metrics', method);
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD like GET without a body', async () => {
    const reply = await (await start()).get('/healthz', 'HEAD');
    expect(reply).toMatchObject({ status: 200, body: '' });
  });

  it('reports not ready with 503 and the reason, while staying live', async () => {
    const fixture = await start();
    fixture.health = { live: true, ready: false, reason: 'no policy loaded' };
    expect(await fixture.get('/readyz')).toMatchObject({ status: 503, body: 'not ready: no policy loaded\n' });
    expect(await fixture.get('/healthz')).toMatchObject({ status: 200 });
    fixture.health = { live: false, ready: false, reason: 'shutting down' };
    expect(await fixture.get('/healthz')).toMatchObject({ status: 503, body: 'not live: shutting down\n' });
  });

  it('answers 404 on /flows when no flow graph is provided', async () => {
    const bare = await startAdminServer(BARE);
    running.push(bare);
    expect((await fetch(`http://${bare.address}/flows`)).status).toBe(404);
  });

  it('answers 500 without the error text when a provider fails', async () => {
    const fixture = await start({
      metrics: async () => {
        throw new Error('secret internal detail');
      },
    });
    expect(await fixture.get('/metrics')).toMatchObject({ status: 500, body: 'internal error\n' });
  });

  it('serves on a unix socket', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'meshwarden-admin-')), 'admin.sock');
    const server = await startAdminServer({ ...BARE, address: `unix:${path}` });
    running.push(server);
    expect(server.address).toBe(`unix:${path}`);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpRequest({ socketPath: path, path: '/healthz' }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });

  it('reclaims a unix socket left behind by a crashed process', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'meshwarden-admin-')), 'admin.sock');
    const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`;
    spawnSync(process.execPath, ['-e', script]);
    expect(existsSync(path)).toBe(true);
    running.push(await startAdminServer({ ...BARE, address: `unix:${path}` }));
  });

  it('refuses a unix path held by a live server or by a file that is not a socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshwarden-admin-'));
    const live = await startAdminServer({ ...BARE, address: `unix:${join(dir, 'live.sock')}` });
    running.push(live);
    writeFileSync(join(dir, 'plain'), 'keep me');
    await expect(startAdminServer({ ...BARE, address: live.address })).rejects.toMatchObject({ code: 'ERR_ADMIN_LISTEN' });
    await expect(startAdminServer({ ...BARE, address: `unix:${join(dir, 'plain')}` })).rejects.toMatchObject({ code: 'ERR_ADMIN_LISTEN' });
    expect(existsSync(join(dir, 'plain'))).toBe(true);
  });

  it('rejects with ERR_ADMIN_LISTEN when the port is taken', async () => {
    const { server } = await start();
    await expect(startAdminServer({ ...BARE, address: server.address })).rejects.toMatchObject({ code: 'ERR_ADMIN_LISTEN', address: server.address });
  });

  it('closes keep-alive connections promptly', async () => {
    const fixture = await start();
    await fixture.get('/healthz');
    const started = Date.now();
    await running.pop()?.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`http://${fixture.server.address}/healthz`)).rejects.toThrow();
  });
});
