/**
 * One key file that did not load: where, why (as the OS or the parser said it), and what that
 * leaves in service. Its `reason` is the one line `/readyz`, `/policy` and the log show.
 */
import type { BundleError, BundleErrorCode } from '../errors.js';

export type KeySource = 'trust-domain' | 'issuer';

export interface KeyFileFailure {
  readonly source: KeySource;
  /** Trust domain name or issuer. */
  readonly name: string;
  readonly path: string;
  readonly code: BundleErrorCode;
  /** e.g. `ENOENT: no such file or directory, open '/etc/meshwarden/bundles/prod.example.json'`. */
  readonly cause: string;
  /** False when nothing was ever loaded from this file: its keys are unavailable. */
  readonly keptLastGood: boolean;
  /** e.g. `trust bundle prod.example: ENOENT: no such file or directory, open '…'`. */
  readonly reason: string;
}

/** What a file holds, as an operator names it: `trust bundle prod.example`, `JWKS file of https://idp.example`. */
export interface KeyFileName {
  readonly source: KeySource;
  readonly name: string;
  readonly path: string;
  readonly label: string;
}

export function keyFileFailure(file: KeyFileName, error: BundleError, keptLastGood: boolean): KeyFileFailure {
  // a read error's own message names the path and the errno; a parse error's names neither
  const cause = error.code === 'ERR_BUNDLE_READ' && error.cause instanceof Error ? error.cause.message : `${file.path}: ${error.message}`;
  return { source: file.source, name: file.name, path: file.path, code: error.code, cause, keptLastGood, reason: `${file.label}: ${cause}` };
}

/** The same failure as before: not news worth another log line. */
export function sameFailure(before: KeyFileFailure | undefined, now: KeyFileFailure): boolean {
  return before !== undefined && before.code === now.code && before.cause === now.cause && before.keptLastGood === now.keptLastGood;
}
