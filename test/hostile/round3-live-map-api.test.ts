/**
 * The live map's API (admin.ui) attacked as a hostile local client or a web page would: bodies
 * that drip or never end, Host headers that only look like an address, paths that climb out of
 * /ui, methods and types it does not take, JSON built to hurt, and answers searched for the
 * policy's values and the request's secrets. A real admin server on loopback, a real snapshot,
 * the what-if the CLI wires in; raw sockets where a well-behaved client would not send it.
 */
import { request as httpClientRequest, type OutgoingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminUiOptions } from '../../src/server/admin/index.js';
import { httpRequest, rawExchange } from '../helpers/raw-http1.js';
import { CHECKOUT, POLICY_VALUE, startLiveMapAdmin, stopLiveMapAdmins } from '../server/admin/live-map-admin.js';

/** Only the what-if's request holds this: no answer may echo it. */
const REQUEST_SECRET = 'canary-request-secret-9b2c';

afterEach(stopLiveMapAdmins);

/** The admin server's `host:port`; no rest after a slow what-if unless a test asks (a cold one may take long on a loaded machine). */
function start(ui: Partial<AdminUiOptions> = {}): Promise<string> {
  return startLiveMapAdmin({ ...ui, limits: { busyShare: 1, ...ui.limits } });
}

interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One request with node's client (any Host it is given), the answer read whole. */
function ask(address: string, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: string): Promise<Answer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const request = httpClientRequest({ host, port, method, path, headers: { host: '127.0.0.1', ...headers }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const HOST: readonly [string, string] = ['host', '127.0.0.1'];
const JSON_TYPE: readonly [string, string] = ['content-type', 'application/json'];

describe('a what-if body that does not arrive', () => {
  it('is refused 408 and the connection closed once the body takes longer than its bound, a byte at a time', async () => {
    const address = await start({ limits: { bodyTimeoutMs: 300 } });
    const head = httpRequest('POST', '/ui/api/what-if', [HOST, JSON_TYPE, ['content-length', '100']]);
    const drip = Array.from({ length: 40 }, () => ' ');
    // before: no answer at all (node:http checks its requestTimeout every 30 s)
    const answer = await rawExchange(address, [head, ...drip], { gapMs: 100, waitMs: 3_000, untilClose: true });
    expect(answer.status).toBe(408);
    expect(answer.raw).toContain('{"error":"the request body did not arrive within 300 ms"}');
    expect(answer.closed).toBe(true);
  });

  it('is refused 408 when the client sends the head and then nothing', async () => {
    const address = await start({ limits: { bodyTimeoutMs: 300 } });
    const head = httpRequest('POST', '/ui/api/what-if', [HOST, JSON_TYPE, ['transfer-encoding', 'chunked']]);
    const answer = await rawExchange(address, [head], { waitMs: 3_000, untilClose: true });
    expect(answer.status).toBe(408);
  });

  it('answers the next client once the slow one is refused (the bucket is shared, not held)', async () => {
    const address = await start({ limits: { bodyTimeoutMs: 300, burst: 2 } });
    const head = httpRequest('POST', '/ui/api/what-if', [HOST, JSON_TYPE, ['content-length', '100']]);
    const slow = rawExchange(address, [head], { waitMs: 3_000, untilClose: true });
    const body = JSON.stringify({ method: 'GET', path: '/v1/charges', contextExtensions: { service: 'payments' } });
    const fast = await ask(address, 'POST', '/ui/api/what-if', { 'content-type': 'application/json' }, body);
    expect(fast.status).toBe(200);
    expect((await slow).status).toBe(408);
  });
});

describe('a request head that does not arrive', () => {
  it("is cut off soon after the admin server's 5 s head timeout, not 30 s later", async () => {
    const address = await start();
    const started = performance.now();
    // before: node:http looked for expired heads every 30 s
    const answer = await rawExchange(address, ['GET /ui HTTP/1.1\r\n', 'Host: 127.0.0.1\r\n'], { waitMs: 9_000, untilClose: true });
    expect(answer.closed).toBe(true);
    expect(performance.now() - started).toBeLessThan(8_000);
  }, 15_000);
});

describe('what-ifs and reaches that take the serving thread for long', () => {
  /** A what-if that costs 200 ms of the thread, as one at 100,000 rules does: a stand-in, the real one's cost depends on the set. */
  const slowAnalysis = {
    whatIf: () => {
      const until = Date.now() + 200;
      while (Date.now() < until); // the serving thread, held
      return { ok: true as const, answer: { decision: 'deny' } };
    },
  };
  const post = (address: string) => ask(address, 'POST', '/ui/api/what-if', { 'content-type': 'application/json' }, '{}');

  it('rest the API in proportion to the time they took past the free allowance, whatever the request count allows', async () => {
    const address = await start({ analysis: slowAnalysis, limits: { burst: 5, busyShare: 0.25, busyFreeMs: 50 } });
    expect((await post(address)).status).toBe(200);
    // before: the burst of 5 let four more through, 200 ms of held Checks each
    const refused = await post(address);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error).toMatch(/^what-if and reach take at most 25% of the serving thread's time: resting \d+ ms$/);
    expect(refused.headers['retry-after']).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await post(address)).status).toBe(200);
  });
});

describe('the Host header (DNS rebinding)', () => {
  it.each([
    ['[::1]evil.example', 403],
    ['[::1]evil.example:9901', 403],
    ['[127.0.0.1].evil.example', 403],
    ['127.0.0.1.evil.example', 403],
    ['127.0.0.1:80:80', 403],
    ['::1', 403],
    ['localhost.', 403],
    ['[::1]', 200],
    ['[::1]:9901', 200],
    ['[::ffff:127.0.0.1]:9901', 200],
    ['localhost', 200],
    ['127.0.0.1:9901', 200],
  ])('answers a page request addressed to Host %j with %i', async (host, status) => {
    const address = await start();
    const answer = await ask(address, 'GET', '/ui', { host });
    expect(answer.status).toBe(status);
  });
});

describe('the data the page draws, read through a rebound DNS name', () => {
  it.each(['/flows', '/policy'])('refuses %s to a browser addressing it by a name, and serves tools and addresses', async (path) => {
    const address = await start();
    const browser = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' };
    // before: 200, the mesh's flows to any page that rebinds its name to 127.0.0.1
    expect((await ask(address, 'GET', path, { ...browser, host: 'evil.example:9901' })).status).toBe(403);
    expect((await ask(address, 'GET', path, { origin: 'http://evil.example:9901', host: 'evil.example:9901' })).status).toBe(403);
    expect((await ask(address, 'GET', path, { ...browser, host: '127.0.0.1:9901' })).status).toBe(200);
    expect((await ask(address, 'GET', path, { host: 'meshwarden-admin.mesh.svc:9901' })).status).toBe(200);
  });
});

describe('paths, methods and types the live map does not take', () => {
  it.each(['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/%2E%2E%2Fpackage.json', '/ui/vendor/../../package.json', '/ui/vendor/..%2f..%2fpackage.json', '/ui/map.js%00.html', '/ui\\..\\package.json', '/ui/vendor/cytoscape.esm.min.mjs/..'])(
    'serves no file for %s',
    async (target) => {
      const address = await start();
      const answer = await rawExchange(address, [httpRequest('GET', target, [HOST])], { untilClose: true, waitMs: 1_000 });
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain('"dependencies"');
    },
  );

  it('grants no cross-origin preflight, and takes no other method', async () => {
    const address = await start();
    const preflight = await ask(address, 'OPTIONS', '/ui/api/what-if', {
      origin: 'http://evil.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    });
    expect(preflight.status).toBe(405);
    expect(Object.keys(preflight.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE']) {
      expect((await ask(address, method, '/ui/api/reach?node=payments')).status).toBe(405);
    }
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-patch+json'])(
    'refuses a what-if sent as %s with 415, before reading it',
    async (type) => {
      const address = await start();
      const answer = await ask(address, 'POST', '/ui/api/what-if', { 'content-type': type }, '{}');
      expect(answer.status).toBe(415);
    },
  );
});

describe('JSON built to hurt', () => {
  const whatIf = (address: string, body: string) => ask(address, 'POST', '/ui/api/what-if', { 'content-type': 'application/json' }, body);

  it.each([
    ['nesting 8,000 deep', '['.repeat(8_000) + ']'.repeat(8_000)],
    ['a body nested 7,000 deep', `{"method":"GET","path":"/","body":${'['.repeat(7_000)}${']'.repeat(7_000)}}`],
    ['YAML aliases expanding a billion times', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
    ['prototype keys', '{"method":"GET","path":"/","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'],
    ['prototype keys in headers', '{"method":"GET","path":"/","headers":{"__proto__":"x","constructor":"y","polluted":"z"}}'],
  ])('answers %s with an error or a decision, and the server keeps serving', async (_name, body) => {
    const address = await start();
    const answer = await whatIf(address, body);
    expect([200, 400, 500]).toContain(answer.status);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const after = await ask(address, 'GET', '/ui/api/reach?node=payments&as=destination');
    expect(after.status).toBe(200);
  });
});

describe('a what-if in YAML whose aliases expand a billion times', () => {
  it('is refused 400 saying so, not 500', async () => {
    const address = await start();
    const laughs = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
    const answer = await ask(address, 'POST', '/ui/api/what-if', { 'content-type': 'application/json' }, laughs);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(/^what-if: aliases expand too far/);
  });
});

describe('what an answer may say', () => {
  it("names only the policies that apply to the request's destination", async () => {
    const address = await start();
    const body = JSON.stringify({ method: 'GET', path: '/', contextExtensions: { service: 'orders' } });
    const answer = await ask(address, 'POST', '/ui/api/what-if', { 'content-type': 'application/json' }, body);
    const { policies } = JSON.parse(answer.body) as { policies: { name: string }[] };
    expect(policies.map((policy) => policy.name)).toEqual(['no-guests']); // no target: it applies everywhere
    expect(answer.body).not.toContain('payments-api');
  });

  it("never quotes the policy's values, nor the request's headers, token or body", async () => {
    const address = await start();
    const token = `eyJhbGciOiJub25lIn0.eyJzdWIiOiIke1JFUVVFU1RfU0VDUkVUfSJ9.${REQUEST_SECRET}`;
    const check = JSON.stringify({
      attributes: {
        source: { principal: CHECKOUT },
        contextExtensions: { service: 'payments' },
        request: { http: { method: 'POST', path: '/v1/charges', headers: { 'x-api-key': POLICY_VALUE, authorization: `Bearer ${token}`, 'x-other': REQUEST_SECRET }, body: REQUEST_SECRET } },
      },
    });
    const answers = [
      await ask(address, 'POST', '/ui/api/what-if', { 'content-type': 'application/json' }, check),
      await ask(address, 'GET', '/ui/api/reach?node=payments&as=destination'),
      await ask(address, 'GET', `/ui/api/reach?node=${encodeURIComponent(CHECKOUT)}&as=caller`),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ decision: { effect: 'allow' } });
    for (const answer of answers) {
      expect(answer.body).not.toContain(POLICY_VALUE);
      expect(answer.body).not.toContain(REQUEST_SECRET);
      expect(answer.body).not.toContain('x-api-key');
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['content-security-policy']).toMatch(/default-src 'self'/);
    }
  });
});
