/**
 * The decisionLog keys of this issue: sinks, mask and drop, from the config file to the
 * resolved options, and every misuse refused at start-up naming the rule or sink and field.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError, parseConfigText } from '../../src/config/index.js';
import { resolveDecisionLogOptions, type DecisionLogOptions } from '../../src/telemetry/decision-log-options.js';
import type { DropRule } from '../../src/telemetry/decision-log-rules.js';
import { LineQueue } from '../../src/telemetry/decision-sinks/line-queue.js';
import { TelemetryOptionError } from '../../src/telemetry/errors.js';

const build = (yaml: string) => buildConfig(parseConfigText(yaml, 'meshwarden.yaml'), '/etc/meshwarden');

function refusal(options: DecisionLogOptions): TelemetryOptionError {
  try {
    resolveDecisionLogOptions(options);
  } catch (error) {
    if (error instanceof TelemetryOptionError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('decisionLog sinks, mask and drop in the config file', () => {
  it('are off by default: no sink, no mask, no drop rule', () => {
    expect(build('{}').decisionLog).toMatchObject({ sinks: [], mask: [], drop: [], format: 'json' });
  });

  it('takes format: ecs, and refuses a format it does not know', () => {
    expect(build('decisionLog: { format: ecs }').decisionLog.format).toBe('ecs');
    expect(() => build('decisionLog: { format: ocsf }')).toThrow(/format/);
  });

  it('take durations as written and keep what is not given absent, for the defaults to fill', () => {
    const config = build(
      [
        'decisionLog:',
        '  output: off',
        '  sinks:',
        '    - { type: http, url: "http://opa-collector:8181/logs", timeout: 5s, batch: { maxLines: 100, maxDelay: 250ms }, retry: { maxDelay: 1m } }',
        '    - { type: otlp, url: "http://otel:4318/v1/logs", headers: { x-tenant: acme } }',
        '  mask: [request.headers.x-api-key]',
        '  drop: [{ decision: allow, pathPrefix: [/healthz, /readyz] }]',
      ].join('\n'),
    );
    expect(config.decisionLog.sinks).toEqual([
      { type: 'http', url: 'http://opa-collector:8181/logs', timeoutMs: 5000, batch: { maxLines: 100, maxDelayMs: 250 }, retry: { maxDelayMs: 60_000 } },
      { type: 'otlp', url: 'http://otel:4318/v1/logs', headers: { 'x-tenant': 'acme' } },
    ]);
    const resolved = resolveDecisionLogOptions(config.decisionLog);
    expect(resolved.sinks[0]).toMatchObject({ name: 'http', timeoutMs: 5000, batch: { maxLines: 100, maxBytes: 1024 * 1024, maxDelayMs: 250 }, bufferMaxLines: 10_000 });
    expect(resolved.output).toEqual({ kind: 'off' });
  });

  it('refuses an unknown drop condition and a sink without a url, naming where', () => {
    expect(() => build('decisionLog: { drop: [{ paht: /healthz }] }')).toThrow(ConfigError);
    expect(() => build('decisionLog: { drop: [{ paht: /healthz }] }')).toThrow(/drop\/0.*paht|paht/);
    expect(() => build('decisionLog: { sinks: [{ type: http }] }')).toThrow(/url/);
  });
});

describe('resolveDecisionLogOptions refuses misuse at start-up', () => {
  it.each([
    [{ drop: [{ decision: 'maybe' }] }, 'decisionLog.drop[0].decision', /"maybe" is not one of allow, deny/],
    [{ drop: [{ decision: 'deny' }, { paht: '/x' } as DropRule] }, 'decisionLog.drop[1].paht', /unknown condition/],
    [{ drop: [{ pathPrefix: 'healthz' }] }, 'decisionLog.drop[0].pathPrefix', /must start with \//],
    [{ drop: [{}] }, 'decisionLog.drop[0]', /would drop every line/],
    [{ mask: ['request.cookies'] }, 'decisionLog.mask[0]', /not a maskable field/],
    [{ headers: ['x-api-key'] }, 'decisionLog.headers', /only if decisionLog.mask also lists request.headers.x-api-key/],
    [{ sinks: [{ type: 'http', url: 'ftp://x/logs' }] }, 'decisionLog.sinks[0].url', /http:\/\/ or https:\/\//],
    [{ sinks: [{ type: 'http', url: 'http://user:pw@x/logs' }] }, 'decisionLog.sinks[0].url', /credentials belong in headers/],
    [{ sinks: [{ type: 'http', url: 'http://a/logs' }, { type: 'http', url: 'http://b/logs' }] }, 'decisionLog.sinks[1].name', /used by another sink/],
    [{ sinks: [{ type: 'http', url: 'http://a/logs', batch: { maxBytes: 100 } }] }, 'decisionLog.sinks[0].batch.maxBytes', /at least 1024/],
  ] as [DecisionLogOptions, string, RegExp][])('%j → %s', (options, option, message) => {
    const error = refusal(options);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('lets a secret-named header be logged only masked, and never an Authorization header', () => {
    expect(resolveDecisionLogOptions({ headers: ['x-api-key'], mask: ['request.headers.x-api-key'] }).headers).toEqual(['x-api-key']);
    expect(refusal({ headers: ['authorization'], mask: ['request.headers.authorization'] }).code).toBe('ERR_TELEMETRY_HEADER_REFUSED');
  });
});

describe('a sink buffer when full', () => {
  function queue(capacity: number) {
    const drops: string[] = [];
    const q = new LineQueue<string>(capacity, (reason, count) => drops.push(`${reason}×${count}`));
    const drain = () => {
      const out: string[] = [];
      for (let e = q.shift(); e !== undefined; e = q.shift()) out.push(e.line);
      return out;
    };
    return { q, drops, drain };
  }

  it('refuses a new allow, and makes room for a deny by evicting the oldest allow', () => {
    const { q, drops, drain } = queue(3);
    q.push('a1', 0, false);
    q.push('d1', 0, true);
    q.push('a2', 0, false);
    q.push('a3', 0, false);
    q.push('d2', 0, true);
    expect(drops).toEqual(['buffer_full×1', 'evicted_by_deny×1']);
    expect(drain()).toEqual(['d1', 'a2', 'd2']); // arrival order kept
  });

  it('drops a deny only when every buffered line is a deny', () => {
    const { q, drops, drain } = queue(2);
    q.push('d1', 0, true);
    q.push('d2', 0, true);
    q.push('d3', 0, true);
    expect(drops).toEqual(['buffer_full×1']);
    expect(drain()).toEqual(['d1', 'd2']);
  });

  it('keeps working past its capacity many times over (the ring wraps)', () => {
    const { q, drain } = queue(4);
    const out: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      q.push(`l${i}`, 0, i % 2 === 0);
      if (i % 3 === 2) out.push(...drain());
    }
    out.push(...drain());
    expect(out).toEqual(Array.from({ length: 1_000 }, (_, i) => `l${i}`));
  });
});
