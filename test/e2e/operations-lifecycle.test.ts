/**
 * Start and drain of a real server process: ready once policies are in service; on SIGTERM,
 * readiness (`/readyz`, gRPC Health) goes false at once while the Checks in flight are all
 * answered, then the process exits 0. In-flight Checks are held deterministically by a JWKS
 * endpoint that answers only when the test lets it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson, type Decoded } from '../helpers/check-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { makeKey, publicJwk, signToken, type SigningKey } from '../identity/helpers/tokens.js';
import { adminGet, HealthWatch, metric } from './operations-support.js';

const IDP = 'https://idp.test';
const POLL = { timeout: 20_000, interval: 25 };
const IN_FLIGHT = 100;

const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: users }
spec:
  action: ALLOW
  rules:
    - from: [{ source: { requestPrincipals: ["${IDP}/*"] } }]
      to: [{ operation: { paths: ["/me"] } }]
    - to: [{ operation: { paths: ["/status"] } }]
`;

/** A JWKS endpoint that holds every request until `release()`. */
class HeldJwks {
  requests = 0;
  readonly #server: Server;
  readonly #held: (() => void)[] = [];
  #released = false;

  constructor(key: SigningKey) {
    const body = JSON.stringify({ keys: [publicJwk(key, { use: 'sig', alg: key.alg })] });
    this.#server = createServer((_request, response) => {
      this.requests++;
      const answer = () => response.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(body);
      if (this.#released) answer();
      else this.#held.push(answer);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/jwks`;
  }

  release(): void {
    this.#released = true;
    for (const answer of this.#held.splice(0)) answer();
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(extra: readonly string[] = []): Promise<ServerProcess> {
  const dir = tempDir('meshwarden-ops-lifecycle-');
  writeFileSync(join(dir, 'users.yaml'), POLICY);
  const server = await startServer({
    configDir: dir,
    configText: ['policies: [users.yaml]', 'decisionLog: { output: "off" }', 'shutdown: { drainTimeout: 60s }', ...extra].join('\n'),
  });
  cleanups.push(() => server.stop('SIGKILL'));
  return server;
}

function clientOf(server: ServerProcess): CheckClient {
  const client = new CheckClient(server.grpc, { deadlineMs: 60_000 });
  cleanups.push(() => client.close());
  return client;
}

const readyz = async (server: ServerProcess) => (await adminGet(server.admin, '/readyz')).status;
const statusCheck = () => httpCheck({ principal: 'spiffe://mesh.test/ns/a/sa/b', path: '/status' });

describe('start', () => {
  it('is ready, on /readyz and gRPC Health, once it listens', async () => {
    const server = await serve();
    expect(await readyz(server)).toBe(200);
    expect((await adminGet(server.admin, '/healthz')).status).toBe(200);
    const client = clientOf(server);
    expect(await client.health('')).toBe('SERVING');
    expect(await client.health('envoy.service.auth.v3.Authorization')).toBe('SERVING');
  });
});

describe('SIGTERM', () => {
  it('turns readiness false at once, answers every Check in flight, then exits 0', async () => {
    const key = makeKey('k1');
    const jwks = new HeldJwks(key);
    const jwksUri = await jwks.listen();
    cleanups.push(() => jwks.close());
    const server = await serve([`identity: { issuers: [{ issuer: "${IDP}", audiences: [api], jwksUri: "${jwksUri}", timeout: 60s }] }`]);
    const watch = new HealthWatch(server.grpc);
    cleanups.push(() => watch.close());
    await expect.poll(() => watch.last, POLL).toBe('SERVING');

    // distinct users: every Check misses the token cache and waits on the held key fetch
    const exp = Math.floor(Date.now() / 1000) + 600;
    const tokens = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => signToken(key, { iss: IDP, aud: 'api', sub: `user-${i}`, exp })),
    );
    const clients = Array.from({ length: 4 }, () => clientOf(server));
    const answers = tokens.map((token, i) =>
      clients[i % clients.length]!.check(httpCheck({ path: '/me', headers: { authorization: `Bearer ${token}` } })).then(
        (answer) => ({ answer }),
        (error: unknown) => ({ error: error as ServiceError }),
      ),
    );
    await expect.poll(metric(server.admin, 'meshwarden_token_cache_misses_total'), POLL).toBe(IN_FLIGHT);
    await expect.poll(() => jwks.requests, POLL).toBeGreaterThanOrEqual(1);

    const exited = server.stop('SIGTERM');
    await expect.poll(() => readyz(server), POLL).toBe(503);
    await expect.poll(() => watch.last, POLL).toBe('NOT_SERVING');
    watch.close(); // a prober lets go once it has seen NOT_SERVING; its stream must not hold the drain
    expect(await readyz(server)).toBe(503);

    jwks.release();
    const settled = await Promise.all(answers);
    const failed = settled.filter((s): s is { error: ServiceError } => 'error' in s);
    expect(failed.map((f) => `${f.error.code} ${f.error.details}`)).toEqual([]);
    for (const { answer } of settled as { answer: Decoded }[]) {
      expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow', reason: 'policy_allow' });
    }
    expect(await exited).toBe(0);
    expect(server.logs.map((l) => l['msg'])).toEqual(expect.arrayContaining(['draining', 'stopped']));
  }, 120_000);

  it('under a steady stream of Checks: none in flight fails, later ones are refused cleanly, exit 0', async () => {
    const server = await serve();
    const clients = Array.from({ length: 8 }, () => clientOf(server));
    const answered: number[] = [];
    const errors: ServiceError[] = [];
    let stop = false;
    const loops = clients.map(async (client, i) => {
      answered[i] = 0;
      while (!stop) {
        try {
          const answer = await client.check(statusCheck());
          expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow' });
          answered[i]!++;
        } catch (error) {
          errors.push(error as ServiceError);
          return; // after the listener closed, this client has nowhere to go
        }
      }
    });
    await expect.poll(() => answered.reduce((a, b) => a + b, 0), POLL).toBeGreaterThan(500);
    const exited = server.stop('SIGTERM');
    expect(await exited).toBe(0);
    stop = true;
    await Promise.all(loops);
    // a Check either got its answer, or was never taken by the server and is UNAVAILABLE (Envoy retries or fails over)
    expect(errors.map((e) => e.code).filter((code) => code !== status.UNAVAILABLE)).toEqual([]);
  }, 120_000);
});
