/**
 * The Check service wired as `meshwarden serve` wires it (src/server/runtime.ts), minus the
 * listeners: identity from the mTLS principal, decision cache, telemetry from the config, for
 * benches that call `checkBytes` in one process.
 */
import { pino } from 'pino';
import { Authorizer } from '../../src/authz/authorizer.js';
import { DecisionCache } from '../../src/authz/decision-cache.js';
import { createAuthorizationService } from '../../src/check/index.js';
import { buildConfig, type RawConfig } from '../../src/config/build.js';
import { createIdentityResolver } from '../../src/identity/index.js';
import { compileTree } from '../../src/policy/engine/index.js';
import type { Policy } from '../../src/policy/model.js';
import type { PolicySnapshot } from '../../src/policy/snapshot.js';
import { createTelemetry, type Telemetry } from '../../src/server/telemetry-wiring.js';
import { ENGINE_OPTIONS } from '../micro/tree-eval.js';

export type CheckBytes = (request: Uint8Array, respond: (response: Uint8Array) => void) => void;

export interface BenchCheckService {
  readonly checkBytes: CheckBytes;
  readonly telemetry: Telemetry;
}

/** `decisionLog` defaults to off, as the Check-path bench has always measured; `tracing` to absent (off). */
export async function benchCheckService(
  policies: readonly Policy[],
  cacheMax: number,
  decisionLog: RawConfig['decisionLog'] = { output: 'off' },
  tracing?: RawConfig['tracing'],
): Promise<BenchCheckService> {
  const config = buildConfig({ decisionLog, cache: { decisions: { max: cacheMax } }, ...(tracing ? { tracing } : {}) }, process.cwd());
  const telemetry = await createTelemetry(config, pino({ enabled: false }));
  const traces = telemetry.tracing;
  const identity = await createIdentityResolver(config.identity, { baseDir: config.baseDir, ...(traces ? { tracing: traces } : {}) });
  const tree = compileTree(policies, ENGINE_OPTIONS);
  const snapshot: PolicySnapshot = {
    generation: 1, tree, policies, files: [], hash: 'bench', policyCount: policies.length,
    ruleCount: tree.stats.rules, loadedAt: Date.now(), options: ENGINE_OPTIONS,
  };
  const cache = new DecisionCache(config.cache.decisions);
  const authorizer = new Authorizer({ snapshots: { current: snapshot }, identity, cache });
  const service = createAuthorizationService((request) => authorizer.authorize(request), {
    requestLimits: config.grpc.limits,
    observe: (result, request, durationSeconds) => telemetry.recorder.record(result, request, durationSeconds),
    ...(traces ? { tracing: traces } : {}),
  });
  return { checkBytes: service.checkBytes, telemetry };
}
