import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { REASON_CODES, type Decision, type ReasonCode, type Verdict } from '../../src/domain/index.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { buildInfo } from '../../src/telemetry/build-info.js';
import type { IdentityStats } from '../../src/identity/index.js';
import type { CacheStats } from '../../src/telemetry/source-metrics.js';
import { TelemetryOptionError } from '../../src/telemetry/errors.js';
import { parseExposition, sampleValue, seriesOf } from './exposition.js';

function decision(verdict: Verdict, reason: ReasonCode, extra: Partial<Decision> = {}): Decision {
  return { id: 'd-1', verdict, reason, generation: 1, ...extra };
}

/** Identity's stats shape, as its createStats() builds it. */
function identityStats(): IdentityStats {
  const counts = () => ({ ok: 0, failed: 0 });
  return {
    tokenCache: { hits: 0, misses: 0, entries: 0 },
    verifications: { 'x509-svid': counts(), xfcc: counts(), 'jwt-svid': counts(), oidc: counts(), 'jwt-authn-metadata': counts() },
    jwksFetches: { ok: 0, invalid: 0, httpError: 0, error: 0 },
    rejections: {},
    keyFiles: {
      files: { 'trust-domain': { loaded: 0, stale: 0, unavailable: 0 }, issuer: { loaded: 0, stale: 0, unavailable: 0 } },
      failures: { 'trust-domain': {}, issuer: {} },
    },
    workloadApi: { updates: { x509: 0, jwt: 0 }, rejected: { x509: 0, jwt: 0 }, reconnects: { x509: 0, jwt: 0 }, lastUpdateAt: undefined },
    bundleEndpoints: {},
  };
}

async function scrape(metrics: Metrics) {
  return parseExposition(await metrics.exposition());
}

describe('createMetrics: checks', () => {
  it('counts each check under its decision and reason', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordCheck(decision('allow', 'policy_allow'), 0.00002);
    metrics.recordCheck(decision('allow', 'policy_allow'), 0.00002);
    metrics.recordCheck(decision('deny', 'default_deny'), 0.003);
    const samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'allow', reason: 'policy_allow' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'deny', reason: 'default_deny' })).toBe(1);
    expect(seriesOf(samples, 'meshwarden_checks_total')).toHaveLength(2);
  });

  it('observes durations into buckets from 10 µs to 1 s', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordCheck(decision('allow', 'policy_allow'), 0.00002);
    metrics.recordCheck(decision('deny', 'policy_deny'), 0.003);
    const samples = await scrape(metrics);
    const bucket = (le: string) => sampleValue(samples, 'meshwarden_check_duration_seconds_bucket', { le });
    expect(bucket('0.00001')).toBe(0);
    expect(bucket('0.000025')).toBe(1);
    expect(bucket('0.0025')).toBe(1);
    expect(bucket('0.005')).toBe(2);
    expect(bucket('1')).toBe(2);
    expect(sampleValue(samples, 'meshwarden_check_duration_seconds_count')).toBe(2);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY])('skips a duration of %s without throwing but still counts the check', async (duration) => {
    const metrics = createMetrics({ processMetrics: false });
    expect(() => metrics.recordCheck(decision('deny', 'internal_error'), duration)).not.toThrow();
    const samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_check_duration_seconds_count')).toBe(0);
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'deny', reason: 'internal_error' })).toBe(1);
  });

  it('counts dry-run outcomes as would_allow and would_deny', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordCheck(decision('allow', 'policy_allow', { dryRun: { verdict: 'deny', by: { policy: 'p' } } }), 0);
    metrics.recordCheck(decision('allow', 'policy_allow', { dryRun: { verdict: 'deny' } }), 0);
    metrics.recordCheck(decision('allow', 'policy_allow', { dryRun: { verdict: 'allow' } }), 0);
    metrics.recordCheck(decision('allow', 'policy_allow'), 0);
    const samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_dry_run_decisions_total', { outcome: 'would_deny' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_dry_run_decisions_total', { outcome: 'would_allow' })).toBe(1);
  });
});

describe('createMetrics: stats sources', () => {
  it('reads cache and identity stats at scrape time', async () => {
    const decisions: { -readonly [K in keyof CacheStats]: number } = { hits: 5, misses: 2, entries: 3 };
    const identity = identityStats();
    identity.verifications.oidc.ok = 4;
    identity.verifications.oidc.failed = 1;
    identity.jwksFetches.ok = 2;
    identity.jwksFetches.httpError = 1;
    identity.tokenCache.entries = 6;
    const metrics = createMetrics({ processMetrics: false, sources: { decisionCache: () => decisions, identity: () => identity } });
    let samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_decision_cache_hits_total')).toBe(5);
    expect(sampleValue(samples, 'meshwarden_decision_cache_misses_total')).toBe(2);
    expect(sampleValue(samples, 'meshwarden_decision_cache_entries')).toBe(3);
    expect(sampleValue(samples, 'meshwarden_token_verifications_total', { kind: 'oidc', result: 'invalid' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_token_verifications_total', { kind: 'jwt_svid', result: 'valid' })).toBe(0);
    expect(sampleValue(samples, 'meshwarden_token_verifications_total', { kind: 'jwt_authn_metadata', result: 'valid' })).toBe(0);
    expect(sampleValue(samples, 'meshwarden_jwks_fetches_total', { result: 'success' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_jwks_fetches_total', { result: 'http_error' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_token_cache_entries')).toBe(6);

    decisions.hits = 9;
    decisions.entries = 1;
    samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_decision_cache_hits_total')).toBe(9);
    expect(sampleValue(samples, 'meshwarden_decision_cache_entries')).toBe(1);
  });

  it('reads an absent source as zero and takes sources attached after construction', async () => {
    const metrics = createMetrics({ processMetrics: false });
    expect(sampleValue(await scrape(metrics), 'meshwarden_token_cache_entries')).toBe(0);
    const decisionLog = () => ({ dropped: [{ sink: 'all', reason: 'rate_limited' as const, count: 12 }], sinks: [], filtered: 0 });
    metrics.attach({ tokenCache: () => ({ hits: 1, misses: 1, entries: 7 }), decisionLog });
    const samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_token_cache_entries')).toBe(7);
    expect(sampleValue(samples, 'meshwarden_decision_log_dropped_total', { sink: 'all', reason: 'rate_limited' })).toBe(12);
  });

  it('keeps the last values of a source that throws instead of failing the scrape', async () => {
    let broken = false;
    const metrics = createMetrics({
      processMetrics: false,
      sources: {
        tokenCache: () => {
          if (broken) throw new Error('boom');
          return { hits: 3, misses: 0, entries: 1 };
        },
      },
    });
    await scrape(metrics);
    broken = true;
    expect(sampleValue(await scrape(metrics), 'meshwarden_token_cache_hits_total')).toBe(3);
  });

  it('ignores stats keys outside the fixed label sets', async () => {
    const hostile = identityStats();
    Object.assign(hostile.verifications, { 'evil"}\n': { ok: 9, failed: 9 } });
    Object.assign(hostile.jwksFetches, { 'evil"}\n': 9 });
    const metrics = createMetrics({ processMetrics: false, sources: { identity: () => hostile } });
    const samples = await scrape(metrics);
    const kinds = new Set(seriesOf(samples, 'meshwarden_token_verifications_total').map((s) => s.labels['kind']));
    expect(kinds).toEqual(new Set(['x509_svid', 'xfcc', 'jwt_svid', 'oidc', 'jwt_authn_metadata']));
    const results = new Set(seriesOf(samples, 'meshwarden_jwks_fetches_total').map((s) => s.labels['result']));
    expect(results).toEqual(new Set(['success', 'invalid', 'http_error', 'error']));
  });
});

describe('createMetrics: policy', () => {
  it('tracks reloads, generation, rules, the current hash only and the last success time', async () => {
    let now = 1_700_000_000_000;
    const metrics = createMetrics({ processMetrics: false }, { now: () => now });
    metrics.policyReloaded({ generation: 1, rules: 10, hash: 'aaa' });
    now += 5000;
    metrics.policyReloaded({ generation: 2, rules: 12, hash: 'bbb' });
    metrics.policyReloadFailed();
    const samples = await scrape(metrics);
    expect(sampleValue(samples, 'meshwarden_policy_reloads_total', { result: 'success' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_policy_reloads_total', { result: 'failure' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_policy_generation')).toBe(2);
    expect(sampleValue(samples, 'meshwarden_policy_rules')).toBe(12);
    expect(seriesOf(samples, 'meshwarden_policy_info')).toEqual([{ name: 'meshwarden_policy_info', labels: { hash: 'bbb' }, value: 1 }]);
    expect(sampleValue(samples, 'meshwarden_policy_last_reload_success_timestamp_seconds')).toBe(1_700_000_005);
  });
});

describe('createMetrics: label sets', () => {
  const HOSTILE = ['x"} 1\nmeshwarden_checks_total{decision="allow"', '../../etc/passwd', 'a'.repeat(5000), '\u0000', '{{7*7}}'];
  const FIXED: Record<string, ReadonlySet<string>> = {
    decision: new Set(['allow', 'deny', 'unauthenticated', 'invalid_request']),
    reason: new Set(REASON_CODES),
    outcome: new Set(['would_allow', 'would_deny']),
    result: new Set(['success', 'failure', 'valid', 'invalid', 'http_error', 'error']),
    kind: new Set(['x509_svid', 'xfcc', 'jwt_svid', 'oidc', 'jwt_authn_metadata']),
    // meshwarden_build_info: the build's, never a request's
    version: new Set([buildInfo().version]),
    node: new Set([process.version]),
  };

  it('never takes a label value from request data when the opt-in counters are off', async () => {
    const metrics = createMetrics({ processMetrics: false });
    for (const text of HOSTILE) {
      const forged = decision(text as Verdict, text as ReasonCode, { by: { policy: text }, detail: text });
      metrics.recordCheck(forged, 0.001, { source: text, destination: text });
    }
    const samples = (await scrape(metrics)).filter((s) => s.name.startsWith('meshwarden_'));
    for (const sample of samples) {
      for (const [label, value] of Object.entries(sample.labels)) {
        if (label === 'le') continue;
        expect(FIXED[label], `${sample.name} ${label}`).toBeDefined();
        expect(FIXED[label]?.has(value), `${sample.name} ${label}=${value}`).toBe(true);
      }
    }
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'deny', reason: 'internal_error' })).toBe(HOSTILE.length);
  });

  it('caps the opt-in flow counter and counts the rest as other with an overflow total', async () => {
    const metrics = createMetrics({ processMetrics: false, flows: { maxSeries: 2 } });
    for (const text of [...HOSTILE, ...HOSTILE]) metrics.recordCheck(decision('deny', 'default_deny'), 0, { source: text, destination: 'payments' });
    const samples = await scrape(metrics);
    const flows = seriesOf(samples, 'meshwarden_flows_total');
    expect(flows).toHaveLength(3);
    expect(sampleValue(samples, 'meshwarden_flows_total', { source: 'other', destination: 'other', decision: 'deny' })).toBe(6);
    expect(sampleValue(samples, 'meshwarden_flows_overflow_total')).toBe(6);
    expect(Math.max(...flows.map((s) => s.labels['source']?.length ?? 0))).toBeLessThanOrEqual(128);
  });

  it('leaves the per-policy counter off by default and caps it when on', async () => {
    const off = createMetrics({ processMetrics: false });
    off.recordCheck(decision('allow', 'policy_allow', { by: { policy: 'a' } }), 0);
    expect(seriesOf(await scrape(off), 'meshwarden_policy_matches_total')).toHaveLength(0);

    const on = createMetrics({ processMetrics: false, policyMatches: { maxPolicies: 1 } });
    on.recordCheck(decision('allow', 'policy_allow', { by: { policy: 'a' }, audit: { policy: 'audit-all' } }), 0);
    on.recordCheck(decision('deny', 'policy_deny', { by: { policy: 'a' }, dryRun: { verdict: 'deny', by: { policy: 'shadow' } } }), 0);
    const samples = await scrape(on);
    expect(sampleValue(samples, 'meshwarden_policy_matches_total', { policy: 'a', action: 'allow' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_policy_matches_total', { policy: 'a', action: 'deny' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_policy_matches_total', { policy: 'other', action: 'audit' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_policy_matches_total', { policy: 'other', action: 'dry_run_deny' })).toBe(1);
  });

  it.each([
    [{ flows: { maxSeries: 0 } }],
    [{ flows: { maxSeries: 1e9 } }],
    [{ policyMatches: { maxPolicies: Number.NaN } }],
  ])('refuses an unbounded or empty cap %j at construction', (options) => {
    expect(() => createMetrics({ processMetrics: false, ...options })).toThrow(TelemetryOptionError);
  });
});

describe('createMetrics: registry', () => {
  it('registers Node process metrics on its own registry, never the global one', async () => {
    const metrics = createMetrics();
    metrics.recordCheck(decision('allow', 'policy_allow'), 0);
    const names = new Set((await scrape(metrics)).map((s) => s.name));
    expect(names.has('process_cpu_user_seconds_total')).toBe(true);
    expect(names.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(await globalRegistry.metrics()).not.toContain('meshwarden_');
  });

  it('leaves process metrics out when asked', async () => {
    const names = (await scrape(createMetrics({ processMetrics: false }))).map((s) => s.name);
    expect(names.filter((n) => !n.startsWith('meshwarden_'))).toEqual([]);
  });
});
