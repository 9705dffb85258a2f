import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccessRequest, Decision, Subject } from '../../src/domain/index.js';
import { createDecisionLog, type DecisionLogDeps } from '../../src/telemetry/decision-log.js';
import type { DecisionLogOptions } from '../../src/telemetry/decision-log-options.js';
import { TelemetryOptionError } from '../../src/telemetry/errors.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ';
const SECRET = 'hunter2-s3cr3t-cookie';

function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    kind: 'http',
    requestId: 'req-1',
    method: 'POST',
    path: '/v1/charges',
    rawPath: '/v1/charges?x=1',
    query: '',
    host: 'payments.prod.svc.cluster.local',
    scheme: 'https',
    protocol: 'HTTP/2',
    headers: new Map([['x-tenant', 'acme']]),
    source: { address: '10.0.0.7', principal: 'spiffe://prod.example/ns/checkout/sa/checkout' },
    destination: { address: '10.0.0.9', port: 8080 },
    contextExtensions: new Map([['service', 'payments']]),
    sni: '',
    filterMetadata: {},
    ...overrides,
  };
}

const SUBJECT: Subject = {
  workload: { trustDomain: 'prod.example', path: '/ns/checkout/sa/checkout', uri: 'spiffe://prod.example/ns/checkout/sa/checkout' },
  user: { principal: 'https://idp.example/alice', issuer: 'https://idp.example', subject: 'alice', audiences: ['payments'], claims: { scope: 'charges:write' } },
};

function decision(overrides: Partial<Decision> = {}): Decision {
  return { id: 'dec-1', verdict: 'deny', reason: 'policy_deny', by: { policy: 'payments-api', rule: 2 }, generation: 7, ...overrides };
}

function harness(options: DecisionLogOptions = {}, deps: DecisionLogDeps = {}) {
  const lines: string[] = [];
  let now = T0;
  const log = createDecisionLog(options, { now: () => now, stream: { write: (line: string) => void lines.push(line) }, ...deps });
  return {
    log,
    lines,
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    advance: (ms: number) => void (now += ms),
    record: (d: Decision, r: AccessRequest | undefined = request()) => log.record({ decision: d, subject: SUBJECT, destination: 'payments' }, r, 412.6e-6),
  };
}

describe('createDecisionLog: fields', () => {
  it('writes one JSON line with the decision, who, what and how long', () => {
    const h = harness({ headers: ['X-Tenant'] });
    h.record(decision({ dryRun: { verdict: 'deny', by: { policy: 'shadow' } }, audit: { policy: 'audit-payments' }, detail: 'no rule matched' }));
    expect(h.parsed()).toEqual([
      {
        log: 'decision',
        time: '2026-01-01T12:00:00.000Z',
        decision_id: 'dec-1',
        request_id: 'req-1',
        decision: 'deny',
        reason: 'policy_deny',
        policy: 'payments-api',
        rule: 2,
        dry_run: 'would_deny',
        dry_run_policy: 'shadow',
        audit: 'audit-payments',
        source_principal: 'spiffe://prod.example/ns/checkout/sa/checkout',
        request_principal: 'https://idp.example/alice',
        destination: 'payments',
        method: 'POST',
        path: '/v1/charges',
        host: 'payments.prod.svc.cluster.local',
        headers: { 'x-tenant': 'acme' },
        latency_us: 413,
        generation: 7,
        detail: 'no rule matched',
      },
    ]);
  });

  it('logs a decision taken before the request could be parsed', () => {
    const h = harness();
    h.log.record({ decision: decision({ verdict: 'invalid_request', reason: 'missing_http_attributes', by: undefined }) }, undefined, 3e-6);
    expect(h.parsed()).toEqual([
      { log: 'decision', time: '2026-01-01T12:00:00.000Z', decision_id: 'dec-1', decision: 'invalid_request', reason: 'missing_http_attributes', latency_us: 3, generation: 7 },
    ]);
  });

  it('names a request it could not read by the id its 400 named', () => {
    const h = harness();
    h.log.record({ decision: decision({ verdict: 'invalid_request', reason: 'invalid_path', by: undefined }), requestId: 'req-9' }, undefined, 3e-6);
    expect(h.parsed()[0]).toMatchObject({ request_id: 'req-9', decision: 'invalid_request' });
  });
});

describe('createDecisionLog: what is logged', () => {
  const allow = decision({ verdict: 'allow', reason: 'policy_allow' });

  it.each([
    ['a deny', decision()],
    ['an unauthenticated request', decision({ verdict: 'unauthenticated', reason: 'invalid_token', by: undefined })],
    ['an invalid request', decision({ verdict: 'invalid_request', reason: 'invalid_path', by: undefined })],
    ['an audited allow', { ...allow, audit: { policy: 'audit-all' } }],
    ['an allow that dry-run policies would deny', { ...allow, dryRun: { verdict: 'deny' as const } }],
  ])('always logs %s, whatever the sample rate', (_, d) => {
    const h = harness({ allowSampleRate: 0 }, { random: () => 0.999 });
    h.record(d);
    expect(h.lines).toHaveLength(1);
  });

  it.each([
    [0, [0, 0.5, 0.99], 0],
    [1, [0, 0.5, 0.99], 3],
    [0.25, [0.1, 0.3, 0.2, 0.9, 0.25], 2],
  ])('samples plain allows at rate %s', (rate, draws, expected) => {
    const queue = [...draws];
    const h = harness({ allowSampleRate: rate }, { random: () => queue.shift() ?? 1 });
    for (let i = 0; i < draws.length; i++) h.record(allow);
    expect(h.lines).toHaveLength(expected);
  });

  it('drops lines beyond the volume limit, counts them, and recovers as time passes', () => {
    const h = harness({ maxLinesPerSecond: 3 });
    for (let i = 0; i < 5; i++) h.record(decision());
    expect(h.lines).toHaveLength(3);
    expect(h.log.dropped()).toBe(2);
    h.advance(1000);
    for (let i = 0; i < 5; i++) h.record(decision());
    expect(h.lines).toHaveLength(6);
    expect(h.log.dropped()).toBe(4);
  });

  it('stops logging after close', async () => {
    const h = harness();
    await h.log.close();
    h.record(decision());
    expect(h.lines).toHaveLength(0);
  });
});

describe('createDecisionLog: secrets', () => {
  it('never writes a credential planted in headers, claims, query, raw path, metadata or detail', () => {
    const h = harness({ headers: ['x-tenant', 'x-forwarded-for'] });
    const planted = request({
      headers: new Map([
        ['authorization', `Bearer ${JWT}`],
        ['cookie', `session=${SECRET}`],
        ['proxy-authorization', `Basic ${SECRET}`],
        ['x-api-key', SECRET],
        ['x-tenant', `Bearer ${SECRET}`],
        ['x-forwarded-for', JWT],
      ]),
      query: `access_token=${JWT}`,
      rawPath: `/v1/charges?access_token=${JWT}`,
      path: `/v1/reset/${JWT}`,
      filterMetadata: { jwt_authn: { token: JWT } },
    });
    const subject: Subject = { ...SUBJECT, user: { ...SUBJECT.user!, claims: { token: SECRET, raw: JWT } } };
    h.log.record({ decision: decision({ detail: `bad token ${JWT}` }), subject, destination: 'payments' }, planted, 1e-6);
    h.log.record({ decision: decision({ verdict: 'allow', reason: 'policy_allow', audit: { policy: 'a' } }), subject, destination: 'payments' }, planted, 1e-6);

    const output = h.lines.join('');
    expect(h.lines).toHaveLength(2);
    for (const secret of [JWT, SECRET, 'c2VjcmV0LXNpZ25hdHVyZQ', 'eyJzdWIiOiJhbGljZSJ9']) expect(output).not.toContain(secret);
    expect(h.parsed()[0]?.['headers']).toEqual({ 'x-tenant': 'Bearer [redacted]', 'x-forwarded-for': '[redacted]' });
  });

  it.each(['authorization', 'Cookie', 'proxy-authorization', 'set-cookie', 'x-api-key', 'x-auth-token', 'bad header'])(
    'refuses to log header %s at configuration time',
    (header) => {
      expect(() => createDecisionLog({ headers: ['x-tenant', header] }, { stream: { write: () => undefined } })).toThrowError(
        expect.objectContaining({ code: 'ERR_TELEMETRY_HEADER_REFUSED', option: 'decisionLog.headers' }),
      );
    },
  );

  it.each([-0.1, 1.5, Number.NaN])('refuses allowSampleRate %s', (allowSampleRate) => {
    expect(() => createDecisionLog({ allowSampleRate }, { stream: { write: () => undefined } })).toThrowError(
      expect.objectContaining({ code: 'ERR_TELEMETRY_SAMPLE_RATE' }),
    );
  });
});

describe('createDecisionLog: file output', () => {
  it('appends to a file and flushes everything on close', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'meshwarden-log-')), 'decisions.log');
    const log = createDecisionLog({ output: path, maxLinesPerSecond: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 500; i++) log.record({ decision: decision({ id: `dec-${i}` }), subject: SUBJECT, destination: 'payments' }, request(), 10e-6);
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(500);
    expect(JSON.parse(lines[499]!)).toMatchObject({ decision_id: 'dec-499' });
  });

  it('fails at start-up when the file cannot be opened', () => {
    const missing = join(tmpdir(), 'meshwarden-no-such-dir', 'x', 'decisions.log');
    expect(() => createDecisionLog({ output: missing })).toThrow(TelemetryOptionError);
  });
});
