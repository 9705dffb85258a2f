/**
 * Why a serving process is not ready, said where an operator looks: `/readyz`, `/policy` and
 * the log. A trust bundle that never loaded denies every Check of its trust domain; the pod
 * that never turns Ready because of it must say which file and why.
 */
import type { IdentityResolver, KeyFileFailure } from '../identity/index.js';
import type { Logger } from './logger.js';
import type { PolicyReloader } from './policy-reloader.js';

export interface ReadinessParts {
  readonly draining: boolean;
  readonly policies: PolicyReloader;
  readonly identity: IdentityResolver;
  /** Why the gRPC listener has no TLS material yet (no SVID from the Workload API). */
  readonly listener?: string | undefined;
}

/** One line: `draining`, `no policy snapshot in service`, or each key file that is not loaded and why. */
export function notReadyReason({ draining, policies, identity, listener }: ReadinessParts): string {
  if (draining) return 'draining';
  const reasons: string[] = [];
  if (policies.current === undefined) reasons.push('no policy snapshot in service');
  if (listener !== undefined) reasons.push(listener);
  if (!identity.ready) {
    const unavailable = identity.failures.filter((failure) => !failure.keptLastGood);
    reasons.push(...(unavailable.length > 0 ? unavailable.map((failure) => failure.reason) : ['trust material not loaded yet']));
  }
  return reasons.length > 0 ? reasons.join('; ') : 'starting';
}

/** What `/policy` says of the trust material: loaded or not, and each failing file with its cause. */
export function trustMaterialInfo(identity: IdentityResolver): object {
  return { loaded: identity.ready, failing: identity.failures.map(describeFailure) };
}

/**
 * Logs each key file that failed to load at start, then each failure and recovery as the
 * resolver tells them (it tells a repeated failure once: the log is loud, never a flood).
 */
export function logTrustMaterial(identity: IdentityResolver, logger: Logger): void {
  for (const failure of identity.failures) logFailure(logger, failure);
  identity.on('error', (event) => logFailure(logger, event));
  identity.on('reload', (event) =>
    event.withdrawn
      ? logger.warn({ event }, `trust domain ${event.name} withdrawn by the Workload API: untrusted from now on`)
      : logger.info({ event }, 'trust material loaded'),
  );
}

function logFailure(logger: Logger, failure: KeyFileFailure): void {
  const consequence = failure.keptLastGood
    ? 'keeping the last good keys'
    : `nothing loaded from it: Checks that need its keys are denied (identity_unavailable) and the server is not ready`;
  // nested: pino's own `name` (the logger's) would clash with the file's
  logger.error({ keyFile: describeFailure(failure) }, `trust material failed to load: ${failure.reason}; ${consequence}`);
}

function describeFailure(failure: KeyFileFailure): object {
  const { source, name, path, code, cause, keptLastGood } = failure;
  return { source, name, path, code, cause, keptLastGood };
}
