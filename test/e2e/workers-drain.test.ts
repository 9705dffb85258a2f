/**
 * SIGTERM to the primary of `serve --workers 2`: readiness turns false at once, a Check in
 * flight on a worker (held by a slow JWKS endpoint) is still answered, and the primary exits 0
 * once every worker has drained.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, structToJson } from '../helpers/check-client.js';
import { API_AUDIENCE, IDP, checkWith, userToken } from '../helpers/identity-fixtures.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { makeKey, publicJwk } from '../identity/helpers/tokens.js';

const HOLD_MS = 1_500;
const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: profile }
spec:
  target: { services: ["profile"] }
  action: ALLOW
  rules:
    - from: [{ source: { requestPrincipals: ["${IDP}/alice"] } }]
`;

const idpKey = makeKey('idp-drain', 'RS256');
let jwks: Server;
let fetched: Promise<void>;
let server: ServerProcess;

/** Answers with the issuer's keys only after HOLD_MS, so a Check that needs them stays in flight. */
async function startSlowJwks(): Promise<string> {
  let onFetch: () => void = () => {};
  fetched = new Promise((resolve) => (onFetch = resolve));
  jwks = createServer((_request, response) => {
    onFetch();
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ keys: [publicJwk(idpKey, { use: 'sig', alg: idpKey.alg })] }));
    }, HOLD_MS);
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
}

beforeAll(async () => {
  const dir = tempDir('meshwarden-workers-drain-');
  writeFileSync(join(dir, 'profile.yaml'), POLICY);
  const jwksUri = await startSlowJwks();
  server = await startServer({
    configDir: dir,
    configText: [
      'policies: [./profile.yaml]',
      'decisionLog: { output: off }',
      'shutdown: { drainTimeout: 8s }',
      'identity:',
      `  issuers: [{ issuer: "${IDP}", audiences: [${API_AUDIENCE}], jwksUri: "${jwksUri}", timeout: 5s }]`,
    ].join('\n'),
    args: ['--workers', '2'],
  });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  jwks?.closeAllConnections();
  await new Promise((resolve) => jwks?.close(resolve));
});

/** Waits for the exit without signalling again (a second SIGTERM is not a drain). */
function exited({ child }: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('SIGTERM to the primary of two workers', () => {
  it('turns readiness false at once, answers the Check in flight, and exits 0', async () => {
    const client = new CheckClient(server.grpc, { deadlineMs: 10_000 });
    const inFlight = client.check(checkWith({ service: 'profile', path: '/me', token: await userToken(idpKey) }));
    await fetched;
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');

    const readyz = await fetch(`http://${server.admin}/readyz`);
    expect(readyz.status).toBe(503);
    const answer = await inFlight;
    client.close();
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(HOLD_MS / 2);
    expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow', policy: 'profile' });

    expect(await exited(server)).toEqual({ code: 0, signal: null });
    const drained = server.logs.filter((line) => line['msg'] === 'worker draining');
    expect(drained).toHaveLength(2);
    expect(server.logs.some((line) => line['msg'] === 'stopped' && line['pid'] === server.child.pid)).toBe(true);
  });
});
