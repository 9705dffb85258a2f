import { describe, expect, it } from 'vitest';
import { connectionRequest, type AccessRequest, type Decision, type Subject } from '../../src/domain/index.js';
import { createDecisionLog } from '../../src/telemetry/decision-log.js';
import { createDecisionRecorder } from '../../src/telemetry/decision-recorder.js';
import { FlowGraph } from '../../src/telemetry/flow-graph.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { parseExposition, sampleValue } from './exposition.js';

const REQUEST: AccessRequest = {
  kind: 'http',
  requestId: 'r1',
  method: 'GET',
  path: '/orders/42',
  rawPath: '/orders/42',
  query: '',
  host: 'orders',
  scheme: 'http',
  protocol: 'HTTP/1.1',
  headers: new Map(),
  source: {},
  destination: {},
  contextExtensions: new Map(),
  sni: '',
  filterMetadata: {},
};
const SUBJECT: Subject = { workload: { trustDomain: 'td', path: '/ns/a/sa/b', uri: 'spiffe://td/ns/a/sa/b' } };
const DENY: Decision = { id: 'd1', verdict: 'deny', reason: 'default_deny', generation: 1, dryRun: { verdict: 'deny' } };

describe('createDecisionRecorder', () => {
  it('feeds metrics, the decision log and the flow graph from one call', async () => {
    const lines: string[] = [];
    const metrics = createMetrics({ processMetrics: false, flows: { maxSeries: 10 } });
    const log = createDecisionLog({}, { stream: { write: (line: string) => void lines.push(line) } });
    const flows = new FlowGraph();
    const recorder = createDecisionRecorder({ metrics, log, flows });

    recorder.record({ decision: DENY, subject: SUBJECT, destination: 'orders' }, REQUEST, 0.00025);

    const samples = parseExposition(await metrics.exposition());
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'deny', reason: 'default_deny' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_flows_total', { source: 'spiffe://td/ns/a/sa/b', destination: 'orders', decision: 'deny' })).toBe(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ decision_id: 'd1', latency_us: 250, destination: 'orders' });
    expect(flows.toJSON().edges[0]).toMatchObject({ source: 'spiffe://td/ns/a/sa/b', decisions: { deny: 1, dryRunDeny: 1 }, paths: { '/orders/{*}': { count: 1 } } });
  });

  it('records a connection as method TCP with no path in the log and the flow graph, and counts it', async () => {
    const lines: string[] = [];
    const metrics = createMetrics({ processMetrics: false });
    const log = createDecisionLog({ allowSampleRate: 1 }, { stream: { write: (line: string) => void lines.push(line) } });
    const flows = new FlowGraph();
    const connection = connectionRequest({
      source: { address: '10.0.0.7', principal: 'spiffe://td/ns/a/sa/b' },
      destination: { address: '10.0.0.9', port: 6379 },
      contextExtensions: new Map(),
      sni: 'redis.data.svc',
      filterMetadata: {},
    });
    const allow: Decision = { id: 'd2', verdict: 'allow', reason: 'policy_allow', by: { policy: 'redis', rule: 0 }, generation: 1 };

    createDecisionRecorder({ metrics, log, flows }).record({ decision: allow, subject: SUBJECT, destination: '6379' }, connection, 0.00002);

    const samples = parseExposition(await metrics.exposition());
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'allow', reason: 'policy_allow' })).toBe(1);
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ decision: 'allow', method: 'TCP', destination: '6379', source_principal: 'spiffe://td/ns/a/sa/b' });
    expect(line).not.toHaveProperty('path');
    expect(line).not.toHaveProperty('host');
    const [edge] = flows.toJSON().edges;
    expect(edge).toMatchObject({ destination: '6379', methods: { TCP: 1 }, byVerdict: { allow: { methods: { TCP: 1 } } } });
    expect([edge?.paths, edge?.byVerdict?.allow.paths]).toEqual([{}, {}]);
  });

  it('records an unparsed request as an unknown caller without observing a flow', async () => {
    const metrics = createMetrics({ processMetrics: false, flows: { maxSeries: 10 } });
    const flows = new FlowGraph();
    createDecisionRecorder({ metrics, flows }).record({ decision: { ...DENY, verdict: 'invalid_request', reason: 'missing_http_attributes' } }, undefined, 0);
    const samples = parseExposition(await metrics.exposition());
    expect(sampleValue(samples, 'meshwarden_flows_total', { source: 'unknown', destination: 'unknown', decision: 'invalid_request' })).toBe(1);
    expect(flows.size).toBe(0);
  });
});
