/**
 * `meshwarden call` against a real `meshwarden serve` process: the README's first minute (the
 * example config, one allowed and one denied request), the exit code by decision, an mTLS
 * listener reached with --ca/--cert/--key, and a server that is not there.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki } from '../identity/helpers/pki.js';
import { CLI, REPO_ROOT, startServer, type ServerProcess } from '../helpers/server-process.js';
import { policyInfo } from './operations-support.js';

const run = promisify(execFile);

interface Called {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function call(...args: string[]): Promise<Called> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'call', ...args], { cwd: REPO_ROOT, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe('meshwarden call against the example server', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({ args: ['--config', 'examples/config.yaml'] });
    servers.push(server);
  });

  it('shows checkout creating a charge allowed, with the identity header Envoy adds upstream, and exits 0', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/checkout-creates-charge.yaml');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^allow: Envoy passes the request upstream \(gRPC 0 OK\)$/m);
    expect(result.stdout).toContain('  x-meshwarden-principal: spiffe://prod.example/ns/checkout/sa/checkout\n');
    expect(result.stdout).toMatch(/^  policy: payments-api\n  rule: 0$/m);
  });

  it('shows the batch workload denied by default, with the 403 Envoy answers itself, and exits 1', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/batch-reads-charges.json');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^deny: Envoy answers 403 itself \(gRPC 7 PERMISSION_DENIED\)$/m);
    expect(result.stdout).toContain('  {"error":"forbidden","request_id":"5b2e0d44-example-deny"}\n');
    expect(result.stdout).toMatch(/^  reason: default_deny$/m);
  });

  it('sends the request as the file describes it: the server logs that caller, destination, method and path', async () => {
    await call('--server', server.grpc, '--request', 'examples/requests/batch-reads-charges.json');
    await expect.poll(() => server.decisions.find((line) => line['request_id'] === '5b2e0d44-example-deny'), { timeout: 5_000 }).toMatchObject({
      source_principal: 'spiffe://prod.example/ns/checkout/sa/batch',
      destination: 'payments',
      method: 'GET',
      path: '/v1/charges/ch_1234',
      decision: 'deny',
    });
  });

  it('prints the answer as JSON with --json', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/batch-reads-charges.json', '--json');
    expect(JSON.parse(result.stdout)).toMatchObject({
      decision: 'deny',
      grpcStatus: 7,
      httpStatus: 403,
      answer: { headers: { 'content-type': 'application/json' } },
      dynamicMetadata: { decision: 'deny', reason: 'default_deny' },
    });
  });

  it('says which version it is, in its listening line and in /policy', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(server.logs.find((line) => line['msg'] === 'listening')).toMatchObject({ version });
    expect(await policyInfo(server.admin)).toMatchObject({ version, loaded: true });
  });

  it('exits 2 on a request file that is not a request, naming the file and field', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/config.yaml');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/examples\/config\.yaml/);
  });
});

describe('meshwarden call with no server there', () => {
  it('exits 3 and says what to check', async () => {
    const result = await call('--server', '127.0.0.1:1', '--request', 'examples/requests/checkout-creates-charge.yaml', '--timeout', '5');
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('no answer from 127.0.0.1:1: UNAVAILABLE');
    expect(result.stderr).toContain('Is meshwarden serving there');
  });
});

describe('meshwarden call to an mTLS listener', () => {
  const CLIENT = 'spiffe://prod.example/ns/istio-system/sa/ingress';
  let pki: TestPki;
  let server: ServerProcess;
  const file = (name: string) => join(pki.dir, name);

  beforeAll(async () => {
    pki = new TestPki();
    const ca = pki.root('mesh-ca', 'prod.example');
    pki.leaf('server', ca, { extra: ['subjectAltName=IP:127.0.0.1,URI:spiffe://prod.example/ns/meshwarden/sa/meshwarden'] });
    pki.leaf('client', ca, { uris: [CLIENT] });
    pki.leaf('stranger', ca, { uris: ['spiffe://prod.example/ns/shop/sa/batch'] });
    const config = [
      `policies: [${join(REPO_ROOT, 'examples/policies')}]`,
      'grpc:',
      `  tls: { cert: server.pem, key: server.key, clientCa: mesh-ca.pem, allowedClientIds: ["${CLIENT}"] }`,
    ].join('\n');
    writeFileSync(file('meshwarden.yaml'), config);
    server = await startServer({ configText: config, configDir: pki.dir });
    servers.push(server);
  });

  it('is answered when it presents an allowed client certificate', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/checkout-creates-charge.yaml',
      '--ca', file('mesh-ca.pem'), '--cert', file('client.pem'), '--key', file('client.key'));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^allow: /);
  });

  it('gets no answer without a client certificate, and is told about --cert and --key', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/checkout-creates-charge.yaml', '--ca', file('mesh-ca.pem'));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('UNAVAILABLE');
    expect(result.stderr).toContain('pass --cert and --key');
  });

  it('is refused, and told why, when its SPIFFE ID is not among the allowed clients', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/checkout-creates-charge.yaml',
      '--ca', file('mesh-ca.pem'), '--cert', file('stranger.pem'), '--key', file('stranger.key'));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('PERMISSION_DENIED');
    expect(result.stderr).toContain('grpc.tls.allowedClientIds');
  });

  it('gets no answer in plaintext, and is told to pass --ca', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/checkout-creates-charge.yaml', '--timeout', '5');
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('pass --ca');
  });

  it('refuses --cert without --key before dialling', async () => {
    const result = await call('--server', server.grpc, '--request', 'examples/requests/checkout-creates-charge.yaml', '--ca', file('mesh-ca.pem'), '--cert', file('client.pem'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--cert and --key go together');
  });
});
