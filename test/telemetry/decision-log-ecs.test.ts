/**
 * `decisionLog.format: ecs` writes lines an ECS-indexing SIEM takes as they are: every field
 * outside `meshwarden.*` is a published ECS field, with a value of its ECS type, and the
 * categorization fields take only ECS's allowed values.
 *
 * ECS_8_11 holds, for the fields we write, what ECS v8.11.0 publishes in
 * generated/ecs/ecs_flat.yml (github.com/elastic/ecs, tag v8.11.0, commit ce703ab38f0c):
 * each field's type, and the allowed values of event.kind, event.category (with the event
 * types `network` expects) and event.outcome. With ECS_FLAT_YML=/path/to/ecs_flat.yml the test
 * also checks every field against the whole published file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDecisionLog } from '../../src/telemetry/decision-log.js';
import { CHECKOUT, authorization, request } from './decision-sink-fixtures.js';

const ECS_8_11: Readonly<Record<string, string>> = {
  '@timestamp': 'date',
  'ecs.version': 'keyword',
  'event.kind': 'keyword',
  'event.category': 'keyword',
  'event.type': 'keyword',
  'event.action': 'keyword',
  'event.outcome': 'keyword',
  'event.id': 'keyword',
  'event.reason': 'keyword',
  'event.duration': 'long',
  'event.dataset': 'keyword',
  'rule.name': 'keyword',
  'rule.id': 'keyword',
  'http.request.id': 'keyword',
  'http.request.method': 'keyword',
  'url.path': 'wildcard',
  'url.domain': 'keyword',
  'source.user.id': 'keyword',
  'user.id': 'keyword',
  'service.name': 'keyword',
  'service.target.name': 'keyword',
  'trace.id': 'keyword',
  'span.id': 'keyword',
  'log.level': 'keyword',
  'log.logger': 'keyword',
};
const EVENT_KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
const NETWORK_EVENT_TYPES = ['access', 'allowed', 'connection', 'denied', 'end', 'info', 'protocol', 'start'];
const OUTCOMES = ['failure', 'success', 'unknown'];

/** ECS field → type, from the published file when given, else the excerpt above. */
const PUBLISHED: Readonly<Record<string, string>> = process.env['ECS_FLAT_YML']
  ? Object.fromEntries(Object.entries(parse(readFileSync(process.env['ECS_FLAT_YML'], 'utf8')) as Record<string, { type: string }>).map(([name, f]) => [name, f.type]))
  : ECS_8_11;

function ecsLines(record: (log: ReturnType<typeof createDecisionLog>) => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const log = createDecisionLog(
    { format: 'ecs', allowSampleRate: 1, headers: ['x-tenant', 'x-api-key'], mask: ['request.headers.x-api-key'] },
    { now: () => Date.UTC(2026, 0, 1, 12), stream: { write: (line: string) => void lines.push(line) } },
  );
  record(log);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Nested objects as dotted ECS names; arrays and scalars are leaves. */
function flatten(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, field]) =>
    typeof field === 'object' && field !== null && !Array.isArray(field) ? flatten(field as Record<string, unknown>, `${prefix}${key}.`) : [[`${prefix}${key}`, field] as [string, unknown]],
  );
}

function ofEcsType(type: string, value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  switch (type) {
    case 'keyword':
    case 'wildcard':
      return values.every((v) => typeof v === 'string');
    case 'long':
      return values.every((v) => Number.isInteger(v));
    case 'date':
      return values.every((v) => typeof v === 'string' && new Date(v).toISOString() === v);
    default:
      return false;
  }
}

const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

describe('decisionLog.format: ecs', () => {
  const [deny, allow] = ecsLines((log) => {
    const denied = authorization('dec-ecs-deny', 'deny');
    const subject = { ...denied.subject, user: { principal: 'https://idp.example/alice', issuer: 'https://idp.example', subject: 'alice', audiences: [], claims: {} } };
    log.record({ ...denied, subject, trace }, request({ headers: new Map([['x-tenant', 'acme'], ['x-api-key', 'k-1']]) }), 412e-6);
    log.record(authorization('dec-ecs-allow', 'allow'), request(), 100e-6);
  });

  it('writes only published ECS fields, each of its ECS type, outside the meshwarden.* namespace', () => {
    for (const line of [deny!, allow!]) {
      for (const [name, value] of flatten(line)) {
        if (name.startsWith('meshwarden.')) continue;
        expect(PUBLISHED[name], `${name} is an ECS field`).toBeDefined();
        expect(ofEcsType(PUBLISHED[name]!, value), `${name}: ${JSON.stringify(value)} is an ECS ${PUBLISHED[name]}`).toBe(true);
      }
    }
  });

  it('categorizes a deny as a denied network event that failed, and an allow as an allowed one that succeeded', () => {
    for (const line of [deny!, allow!]) {
      const event = line['event'] as { kind: string; category: string[]; type: string[]; outcome: string };
      expect(EVENT_KINDS).toContain(event.kind);
      expect(event.category).toEqual(['network']);
      event.type.forEach((type) => expect(NETWORK_EVENT_TYPES).toContain(type));
      expect(OUTCOMES).toContain(event.outcome);
    }
    expect(deny!['event']).toMatchObject({ type: ['denied'], outcome: 'failure' });
    expect(allow!['event']).toMatchObject({ type: ['allowed'], outcome: 'success' });
  });

  it('carries the decision under ECS names, what ECS has no field for under meshwarden.*, and masks as json does', () => {
    expect(deny).toMatchObject({
      '@timestamp': '2026-01-01T12:00:00.000Z',
      ecs: { version: '8.11.0' },
      log: { logger: 'meshwarden.decision' },
      event: { id: 'dec-ecs-deny', reason: 'default_deny', duration: 412_000, dataset: 'meshwarden.decision' },
      http: { request: { id: 'req-1', method: 'POST' } },
      url: { path: '/v1/charges', domain: 'payments.prod.svc.cluster.local' },
      source: { user: { id: CHECKOUT } },
      user: { id: 'https://idp.example/alice' },
      service: { name: 'meshwarden', target: { name: 'payments' } },
      trace: { id: trace.traceId },
      span: { id: trace.spanId },
      meshwarden: { decision: 'deny', generation: 1, headers: { 'x-tenant': 'acme', 'x-api-key': '[masked]' }, masked: ['headers.x-api-key'] },
    });
    expect(allow).toMatchObject({ rule: { name: 'payments-api', id: '0' } });
    expect(deny!['rule']).toBeUndefined(); // a default deny has no policy: no empty rule object
    expect(JSON.stringify(deny)).not.toContain('k-1');
  });
});
