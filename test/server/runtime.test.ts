/**
 * startRuntime in one process, on loopback: the parts start in order and a part that cannot
 * start stops the start; a started runtime serves Checks into its telemetry; shutdown says
 * not ready before anything closes, then closes the listener.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RawConfig } from '../../src/config/build.js';
import { startRuntime, StartupError, type Runtime } from '../../src/server/runtime.js';
import { CheckClient } from '../helpers/check-client.js';
import { CALLER, configWith, POLICY, quiet } from './runtime-fixtures.js';

const running: Runtime[] = [];
const clients: CheckClient[] = [];

afterEach(async () => {
  clients.splice(0).forEach((client) => client.close());
  await Promise.all(running.splice(0).map((runtime) => runtime.shutdown()));
});

async function start(files: Record<string, string>, raw: RawConfig = {}): Promise<Runtime> {
  const runtime = await startRuntime(configWith(files, raw), quiet);
  running.push(runtime);
  return runtime;
}

function client(runtime: Runtime): CheckClient {
  const made = new CheckClient(runtime.grpcAddress, { deadlineMs: 5_000 });
  clients.push(made);
  return made;
}

const check = (principal: string) => ({
  attributes: {
    source: { principal },
    request: { http: { id: 'r-1', method: 'GET', path: '/v1/charges', host: 'payments', headers: {} } },
    contextExtensions: { service: 'payments' },
  },
});

describe('startRuntime', () => {
  it('serves Checks once started and tells its telemetry of each, with the destination it decided for', async () => {
    const runtime = await start({ 'policy.yaml': POLICY });
    expect(runtime.ready()).toBe(true);
    expect((await client(runtime).check(check(CALLER))).status?.code ?? 0).toBe(0);
    expect((await client(runtime).check(check('spiffe://prod.example/ns/shop/sa/web'))).status?.code).toBe(7);
    expect(runtime.telemetry.flows.toJSON().edges).toEqual(expect.arrayContaining([
      expect.objectContaining({ source: CALLER, destination: 'payments' }),
    ]));
  });

  it.each<[string, Record<string, string>, RawConfig]>([
    ['policies', { 'policy.yaml': 'kind: Nonsense\n' }, {}],
    ['shadow policies', { 'policy.yaml': POLICY, 'shadow.yaml': 'kind: Nonsense\n' }, { shadowPolicies: ['shadow.yaml'] }],
  ])('does not start when its %s do not load, and says so', async (what, files, raw) => {
    const failed = startRuntime(configWith(files, raw), quiet);
    await expect(failed).rejects.toBeInstanceOf(StartupError);
    await expect(failed).rejects.toThrow(`${what} do not load`);
  });

  it('does not start when its listener cannot listen', async () => {
    const first = await start({ 'policy.yaml': POLICY });
    await expect(startRuntime(configWith({ 'policy.yaml': POLICY }, { grpc: { address: first.grpcAddress } }), quiet)).rejects.toThrow();
  });

  it('is not ready from the moment shutdown begins, keeps answering through notServingDelay, then closes the listener', async () => {
    const runtime = await startRuntime(configWith({ 'policy.yaml': POLICY }, { shutdown: { notServingDelay: '300ms', drainTimeout: '1s' } }), quiet);
    const caller = client(runtime);
    const stopped = runtime.shutdown();
    expect(runtime.ready()).toBe(false);
    expect(await caller.health()).toBe('NOT_SERVING');
    expect((await caller.check(check(CALLER))).status?.code ?? 0).toBe(0);
    await stopped;
    await expect(client(runtime).check(check(CALLER))).rejects.toThrow();
  });
});
