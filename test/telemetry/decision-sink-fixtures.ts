/** Decisions and requests for the decision-log sink tests: each decision has its own id. */
import type { AccessRequest, Authorization, Decision } from '../../src/domain/index.js';
import { createDecisionLog, type DecisionLog } from '../../src/telemetry/decision-log.js';
import type { DecisionLogOptions } from '../../src/telemetry/decision-log-options.js';

export const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';

export function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    kind: 'http',
    requestId: 'req-1',
    method: 'POST',
    path: '/v1/charges',
    rawPath: '/v1/charges',
    query: '',
    host: 'payments.prod.svc.cluster.local',
    scheme: 'https',
    protocol: 'HTTP/2',
    headers: new Map([['x-tenant', 'acme']]),
    source: { address: '10.0.0.7', principal: CHECKOUT },
    destination: { address: '10.0.0.9', port: 8080 },
    contextExtensions: new Map([['service', 'payments']]),
    sni: '',
    filterMetadata: {},
    ...overrides,
  };
}

export function authorization(id: string, verdict: Decision['verdict'], destination = 'payments'): Authorization {
  const decision: Decision =
    verdict === 'allow'
      ? { id, verdict, reason: 'policy_allow', by: { policy: 'payments-api', rule: 0 }, generation: 1 }
      : { id, verdict, reason: 'default_deny', generation: 1 };
  return { decision, subject: { workload: { trustDomain: 'prod.example', path: '/ns/checkout/sa/checkout', uri: CHECKOUT } }, destination };
}

/** A log that logs every decision, with no volume limit and nothing on stdout unless asked. */
export function sinkLog(options: DecisionLogOptions): DecisionLog {
  return createDecisionLog({ output: 'off', allowSampleRate: 1, maxLinesPerSecond: Infinity, ...options }, { sinks: { random: () => 0.5 } });
}

/** Records `count` decisions, one deny in every `denyEvery`; returns the ids by verdict. */
export function recordMany(log: DecisionLog, prefix: string, count: number, denyEvery: number): { allows: string[]; denies: string[] } {
  const allows: string[] = [];
  const denies: string[] = [];
  for (let i = 0; i < count; i++) {
    const deny = i % denyEvery === 0;
    const id = `${prefix}-${i}`;
    (deny ? denies : allows).push(id);
    log.record(authorization(id, deny ? 'deny' : 'allow'), request({ requestId: id }), 150e-6);
  }
  return { allows, denies };
}
