/**
 * A hostile corpus of request bodies against the real server, on both transports: bodies that
 * nest deep, run huge, break UTF-8, lie about their content type or encoding, or repeat the
 * name a policy reads. Each carries `"amount": 10`, which the ALLOW on /small would allow and
 * the DENY on /pay would let through were the body trusted: every one is denied (or, past
 * messageBytes, refused 400), never allowed, never a crash, and no log line holds the body.
 * The same corpus goes to the HTTP ext_authz listener, as Envoy's http_service forwards bodies.
 */
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckRequest, type HttpRequestMessage } from '../../src/envoy/index.js';
import { rawClient, structToJson, type RawClient } from '../helpers/check-client.js';
import { decodeOfficial } from '../helpers/official-protos.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { BODY_POLICIES } from '../helpers/body-policies.js';
import { TRANSPORTS } from '../helpers/transports.js';

// Below the default (64 KiB), so the corpus shows the configured bound at work.
const MAX_BODY_BYTES = 48 * 1024;
const MESSAGE_BYTES = 1024 * 1024;
const SECRET = 'pan-4111111111111111';
const JSON_TYPE = { 'content-type': 'application/json' };
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const json = (extra = '') => `{"amount":10,"card":"${SECRET}"${extra}}`;
/** A valid JSON body of exactly `bytes` bytes. */
const sized = (bytes: number) => utf8(json(`,"pad":"${'x'.repeat(bytes - json(',"pad":""').length)}"`));

interface HostileBody {
  readonly name: string;
  readonly body: Uint8Array;
  readonly headers?: Record<string, string>;
  /** Sent as raw_body (Envoy's pack_as_bytes) rather than body. */
  readonly raw?: boolean;
}

const CORPUS: readonly HostileBody[] = [
  { name: 'lists nested 20,000 deep', body: utf8(json(`,"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`)) },
  { name: 'objects nested 7,000 deep', body: utf8(json(`,"x":${'{"a":'.repeat(7_000)}1${'}'.repeat(7_000)}`)) },
  { name: 'a valid JSON body one byte over maxBodyBytes', body: sized(MAX_BODY_BYTES + 1) },
  { name: 'a valid JSON body of 900 KiB', body: utf8(json(`,"pad":"${'x'.repeat(900 * 1024)}"`)) },
  { name: 'a body past messageBytes', body: utf8(json(`,"pad":"${'x'.repeat(MESSAGE_BYTES)}"`)) },
  { name: 'invalid UTF-8 in body', body: Buffer.concat([utf8('{"amount":10,"n":"'), Buffer.from([0xc3, 0x28]), utf8(`","card":"${SECRET}"}`)]) },
  { name: 'invalid UTF-8 in raw_body', body: Buffer.concat([utf8('{"amount":10,"n":"'), Buffer.from([0xff]), utf8(`","card":"${SECRET}"}`)]), raw: true },
  { name: 'an overlong UTF-8 encoding', body: Buffer.concat([utf8('{"amount":10,"n":"'), Buffer.from([0xc0, 0xaf]), utf8('"}')]) },
  { name: 'a UTF-16 surrogate encoded as UTF-8', body: Buffer.concat([utf8('{"amount":10,"n":"'), Buffer.from([0xed, 0xa0, 0x80]), utf8('"}')]) },
  { name: 'JSON declared text/plain', body: utf8(json()), headers: { 'content-type': 'text/plain' } },
  { name: 'JSON with no content type', body: utf8(json()), headers: {} },
  { name: 'a form declared application/json', body: utf8(`amount=10&card=${SECRET}`) },
  { name: 'JSON declared as two types', body: utf8(json()), headers: { 'content-type': 'application/json, text/plain' } },
  { name: 'JSON declared in UTF-16', body: utf8(json()), headers: { 'content-type': 'application/json; charset=utf-16' } },
  { name: 'JSON said to be gzip-compressed', body: utf8(json()), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' } },
  { name: 'JSON after a byte-order mark', body: utf8(`\ufeff${json()}`) },
  { name: 'JSON with a trailing second document', body: utf8(`${json()}{"amount":100000}`) },
  { name: 'NaN where a number goes', body: utf8(`{"amount":NaN,"card":"${SECRET}"}`) },
  { name: 'the name read twice', body: utf8(`{"amount":100000,"card":"${SECRET}","amount":10}`) },
  { name: 'the name read twice, once escaped', body: utf8(`{"amount":100000,"card":"${SECRET}","\\u0061mount":10}`) },
  { name: 'the name read twice, in two cases', body: utf8(`{"AMOUNT":100000,"card":"${SECRET}","amount":10}`) },
  { name: 'a body Envoy marked partial', body: utf8(json()), headers: { ...JSON_TYPE, 'x-envoy-auth-partial-body': 'true' } },
];

const OK = 0;
const PERMISSION_DENIED = 7;
const INVALID_ARGUMENT = 3;
const REFUSED_TOO_LARGE = { code: INVALID_ARGUMENT, reason: 'request_too_large' };

interface Outcome {
  readonly code: number;
  readonly reason?: unknown;
  readonly grpcError?: number;
}

function check(client: RawClient, path: string, hostile: HostileBody): Promise<Outcome> {
  const http: HttpRequestMessage = {
    method: 'POST', path, host: 'shop', headers: { ...(hostile.headers ?? JSON_TYPE) },
    ...(hostile.raw ? { rawBody: hostile.body } : { body: hostile.body }),
  };
  const bytes = Buffer.from(encodeCheckRequest({ attributes: { request: { http } } }));
  return new Promise((resolve, reject) => {
    client.Check(bytes, { deadline: Date.now() + 10_000 }, (error, answer) => {
      if (error) return 'code' in error ? resolve({ code: -1, grpcError: error.code as number }) : reject(error);
      const decoded = decodeOfficial('envoy.service.auth.v3.CheckResponse', answer!) as { status?: { code?: number }; dynamicMetadata?: unknown };
      resolve({ code: decoded.status?.code ?? OK, reason: structToJson(decoded.dynamicMetadata)['reason'] });
    });
  });
}

/** The corpus as Envoy's http_service sends it: the body as is, content-length, the request id to find the decision by. */
function checkOverHttp(server: ServerProcess, path: string, hostile: HostileBody, requestId: string): Promise<Outcome> {
  const [host, port] = [server.http.split(':')[0], Number(server.http.split(':')[1])];
  const headers = { host: 'shop', 'x-request-id': requestId, 'content-length': String(hostile.body.length), ...(hostile.headers ?? JSON_TYPE) };
  const before = server.decisions.length;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: `/authz${path}`, method: 'POST', headers, agent: false }, (res) => {
      res.resume().on('end', async () => {
        // a body refused unread has no request id in its decision: it is the one line logged since
        const line = () => server.decisions.slice(before).find((l) => l['request_id'] === requestId || (res.statusCode === 400 && !l['request_id']));
        await expect.poll(line).toBeTruthy();
        resolve({ code: HTTP_TO_CODE[res.statusCode ?? 0] ?? -1, reason: line()!['reason'] });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(hostile.body);
  });
}

const HTTP_TO_CODE: Readonly<Record<number, number>> = { 200: OK, 403: PERMISSION_DENIED, 400: INVALID_ARGUMENT };

type Ask = (path: string, hostile: HostileBody) => Promise<Outcome>;

/** The corpus against one running server, asked through `ask`; `server` is the process, once started. */
function theCorpus(ask: Ask, server: () => ServerProcess): void {
  it.each(CORPUS.map((hostile) => [hostile.name, hostile] as const))('%s: never allowed by the ALLOW that reads the body', async (_name, hostile) => {
    expect(await ask('/small', hostile)).toEqual(hostile.body.length > MESSAGE_BYTES ? REFUSED_TOO_LARGE : { code: PERMISSION_DENIED, reason: 'default_deny' });
  });

  it.each(CORPUS.map((hostile) => [hostile.name, hostile] as const))('%s: denied by the DENY that reads the body', async (_name, hostile) => {
    expect(await ask('/pay', hostile)).toEqual(hostile.body.length > MESSAGE_BYTES ? REFUSED_TOO_LARGE : { code: PERMISSION_DENIED, reason: 'policy_deny' });
  });

  it('still allows an honest body afterwards, up to maxBodyBytes, and no log line holds any body', async () => {
    expect(await ask('/small', { name: 'honest', body: utf8(json()) })).toEqual({ code: OK, reason: 'policy_allow' });
    expect(await ask('/small', { name: 'at the bound', body: sized(MAX_BODY_BYTES) })).toEqual({ code: OK, reason: 'policy_allow' });
    expect(await ask('/pay', { name: 'honest', body: utf8(json()) })).toEqual({ code: OK, reason: 'policy_allow' });
    await expect.poll(() => server().decisions.length).toBeGreaterThanOrEqual(2 * CORPUS.length);
    expect(JSON.stringify(server().decisions)).not.toContain(SECRET);
    expect(JSON.stringify(server().logs)).not.toContain(SECRET);
  });
}

/** A server with the body policies, maxBodyBytes and decision log every corpus runs against, plus `listener`'s config. */
async function startWithBodyPolicies(listener: string): Promise<ServerProcess> {
  const dir = tempDir();
  writeFileSync(join(dir, 'policies.yaml'), BODY_POLICIES);
  return startServer({
    configDir: dir,
    configText: [
      `policies: ["${join(dir, 'policies.yaml')}"]`,
      `maxBodyBytes: ${MAX_BODY_BYTES}`,
      listener,
      'decisionLog: { output: stdout, allowSampleRate: 1, headers: [content-type] }',
    ].join('\n'),
  });
}

describe.each(TRANSPORTS)('a hostile corpus of request bodies (meshwarden on %s)', (transport) => {
  let server: ServerProcess;
  let client: RawClient;

  beforeAll(async () => {
    server = await startWithBodyPolicies(`grpc: { transport: ${transport}, limits: { messageBytes: ${MESSAGE_BYTES} } }`);
    client = rawClient(server.grpc);
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  theCorpus((path, hostile) => check(client, path, hostile), () => server);
});

describe('a hostile corpus of request bodies over the HTTP ext_authz service', () => {
  let server: ServerProcess;
  let sent = 0;

  beforeAll(async () => {
    server = await startWithBodyPolicies(`http: { address: "127.0.0.1:0", pathPrefix: /authz, limits: { bodyBytes: ${MESSAGE_BYTES} } }`);
  });
  afterAll(async () => {
    await server?.stop();
  });

  theCorpus((path, hostile) => checkOverHttp(server, path, hostile, `hostile-${(sent += 1)}`), () => server);
});
