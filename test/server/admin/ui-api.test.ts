/**
 * The live map's API without a browser: off by default, the what-if bounded (rate, body,
 * content type) and answering 400 with where the request is wrong, and no policy text in any
 * answer. A real admin server on loopback, a real policy snapshot, the what-if the CLI wires in.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminUiOptions } from '../../../src/server/admin/index.js';
import { tempDir } from '../../helpers/server-process.js';
import { CHECKOUT, GUEST, POLICY_VALUE as SECRET_LOOKING_VALUE, startLiveMapAdmin, stopLiveMapAdmins } from './live-map-admin.js';

afterEach(stopLiveMapAdmins);

async function startWith(ui: Partial<AdminUiOptions> | 'off'): Promise<string> {
  return `http://${await startLiveMapAdmin(ui)}`;
}

function whatIf(base: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(`${base}/ui/api/what-if`, { method: 'POST', headers: { 'content-type': contentType }, body });
}

const GUEST_REQUEST = JSON.stringify({ method: 'GET', path: '/v1/charges', contextExtensions: { service: 'payments' }, source: { principal: GUEST } });

describe('admin.ui off (the default)', () => {
  it.each(['/ui', '/ui/', '/ui/map.js', '/ui/vendor/cytoscape.esm.min.mjs', '/ui/api/reach?node=x'])('answers %s 404', async (path) => {
    const base = await startWith('off');
    expect((await fetch(`${base}${path}`)).status).toBe(404);
  });

  it('answers the what-if 404 too', async () => {
    const base = await startWith('off');
    expect((await whatIf(base, GUEST_REQUEST)).status).toBe(404);
  });
});

describe('admin.ui on', () => {
  it("fails the start, saying why, when the page's files are not there (a package that did not ship ui/)", async () => {
    const start = startWith({ pageFolder: tempDir('meshwarden-no-ui-') });
    await expect(start).rejects.toMatchObject({ code: 'ERR_ADMIN_UI', message: expect.stringMatching(/admin\.ui: the live map's files cannot be read \(ENOENT.*index\.html/) });
  });

  it('serves the page with a strict content security policy and nothing inline', async () => {
    const base = await startWith({});
    const response = await fetch(`${base}/ui`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self'; style-src 'self';/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\sstyle=|\son[a-z]+=|https?:\/\//);
  });

  it.each([
    ['evil.example:9901', 403],
    ['localhost:9901', 200],
    ['127.0.0.1:9901', 200],
    ['[::1]:9901', 200],
  ])('answers a request addressed to Host %s with %i (a DNS name could be rebound to loopback)', async (host, status) => {
    const base = await startWith({});
    const { port } = new URL(base);
    const answer = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/ui', headers: { host } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(answer).toBe(status);
  });

  it('serves cytoscape from the package, as a JavaScript module', async () => {
    const base = await startWith({});
    const response = await fetch(`${base}/ui/vendor/cytoscape.esm.min.mjs`);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toMatch(/export\s*\{\s*\w+ as default\s*\}/);
  });

  it('answers an unknown page 404, and a write to a page 405', async () => {
    const base = await startWith({});
    expect((await fetch(`${base}/ui/../policy.yaml`)).status).toBe(404);
    expect((await fetch(`${base}/ui/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/ui/map.js`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/ui/api/what-if`)).status).toBe(405);
  });
});

describe('the what-if', () => {
  it('evaluates a request against the snapshot in service and names the deciding rule, never its text', async () => {
    const base = await startWith({});
    const response = await whatIf(base, GUEST_REQUEST);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      generation: 1,
      caller: GUEST,
      decision: { effect: 'deny', reason: 'policy_deny', by: { policy: 'no-guests', rule: 1 } },
      policies: expect.arrayContaining([{ name: 'no-guests', action: 'DENY', mode: 'enforce', applies: true, matchedRules: [1] }]),
      engine: 'decision-tree',
    });
    expect(text).not.toContain(SECRET_LOOKING_VALUE);
    expect(text).not.toContain('namespaces');
  });

  it('answers 400 naming the field when the request is not one explain takes', async () => {
    const base = await startWith({});
    const response = await whatIf(base, JSON.stringify({ method: 'GET', path: '/', colour: 'blue' }));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: string };
    expect(error).toMatch(/^what-if:1:\d+: .*colour/);
  });

  it('answers 400 for text that is not JSON at all', async () => {
    const base = await startWith({});
    const response = await whatIf(base, '{"method": ');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^what-if:1:/);
  });

  it('refuses a body past the limit with 413, before evaluating anything', async () => {
    const base = await startWith({ limits: { bodyBytes: 1024 } });
    const padded = JSON.stringify({ method: 'GET', path: `/${'a'.repeat(2000)}` });
    const response = await whatIf(base, padded);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toBe('the request body is larger than 1024 bytes');
  });

  it('stops reading a chunked body, which declares no length, once it passes the limit, and answers 413', async () => {
    const base = await startWith({ limits: { bodyBytes: 1024 } });
    const { port } = new URL(base);
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/ui/api/what-if', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
      request.on('response', (response) => resolve(response.statusCode ?? 0));
      request.on('error', reject);
      for (let i = 0; i < 8; i++) request.write('x'.repeat(512));
      request.end();
    });
    expect(status).toBe(413);
  });

  it('refuses a body that is not declared JSON with 415 (a cross-site form cannot send JSON without a preflight)', async () => {
    const base = await startWith({});
    expect((await whatIf(base, GUEST_REQUEST, 'text/plain')).status).toBe(415);
  });

  it('answers 429 with retry-after once the rate is spent, and again once time has passed', async () => {
    let now = 0;
    const base = await startWith({ limits: { ratePerSecond: 1, burst: 3 }, now: () => now });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await whatIf(base, GUEST_REQUEST)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await whatIf(base, GUEST_REQUEST);
    expect(refused.headers.get('retry-after')).toBe('1');
    now += 1000;
    expect((await whatIf(base, GUEST_REQUEST)).status).toBe(200);
  });

  it('answers 400 for a reach without a node, or asked as neither caller nor destination', async () => {
    const base = await startWith({});
    expect((await fetch(`${base}/ui/api/reach`)).status).toBe(400);
    expect((await fetch(`${base}/ui/api/reach?node=payments&as=both`)).status).toBe(400);
  });

  it('counts reach against the same rate', async () => {
    const base = await startWith({ limits: { ratePerSecond: 1, burst: 1 }, now: () => 0 });
    await whatIf(base, GUEST_REQUEST);
    expect((await fetch(`${base}/ui/api/reach?node=${encodeURIComponent(GUEST)}`)).status).toBe(429);
  });
});

describe('reach for a clicked node', () => {
  it('lists who may call a service, the methods, paths and rule, and counts the conditions without their values', async () => {
    const base = await startWith({});
    const response = await fetch(`${base}/ui/api/reach?node=payments&as=destination`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      node: 'payments',
      as: 'destination',
      generation: 1,
      entries: [{ peer: { kind: 'principal', principal: CHECKOUT }, methods: ['POST'], paths: ['/v1/charges'], conditions: 1, allowedBy: 'payments-api rules[0]', unless: [] }],
    });
    expect(text).not.toContain(SECRET_LOOKING_VALUE);
  });

  it('lists what a workload may call', async () => {
    const base = await startWith({});
    const answer = (await (await fetch(`${base}/ui/api/reach?node=${encodeURIComponent(CHECKOUT)}&as=caller`)).json()) as { entries: { peer: unknown }[] };
    expect(answer.entries.map((entry) => entry.peer)).toEqual([{ kind: 'service', service: 'payments', label: 'payments' }]);
  });
});
