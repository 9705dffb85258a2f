/**
 * Combines what each credential established into one Subject. Credentials that each verify
 * but name different callers are a conflict, never a choice.
 */
import { ANONYMOUS, type EndUser, type Subject } from '../../domain/index.js';
import { IdentityError } from '../errors.js';
import type { WorkloadClaim } from './peer-identity.js';
import type { TokenIdentity } from './verified-token.js';

type SvidToken = Extract<TokenIdentity, { kind: 'jwt-svid' }>;

export function assembleSubject(
  peer: WorkloadClaim | undefined,
  tokens: readonly (TokenIdentity | undefined)[],
  metadataUser: EndUser | undefined,
  precedence: 'mtls' | 'jwt',
): Subject {
  let svid: SvidToken | undefined;
  let user = metadataUser;
  for (const token of tokens) {
    if (token?.kind === 'jwt-svid') {
      if (svid !== undefined && svid.workload.uri !== token.workload.uri) conflict('two JWT-SVIDs name different workloads');
      svid = token;
    } else if (token?.kind === 'oidc') {
      if (user !== undefined && user.principal !== token.user.principal) conflict('two end-user tokens name different users');
      user = token.user;
    }
  }
  if (peer !== undefined && svid !== undefined && peer.id.uri !== svid.workload.uri) {
    conflict('mTLS identity and JWT-SVID name different workloads');
  }
  if (peer === undefined && svid === undefined && user === undefined) return ANONYMOUS;
  const useSvid = svid !== undefined && (precedence === 'jwt' || peer === undefined);
  // built field by field, not by spreads: this runs on every cache hit that has a peer identity
  const subject: { -readonly [K in keyof Subject]: Subject[K] } = {};
  const workload = useSvid ? svid?.workload : peer?.id;
  if (workload !== undefined) {
    subject.workload = workload;
    subject.workloadEvidence = useSvid ? 'jwt-svid' : peer?.evidence;
  }
  if (user !== undefined) subject.user = user;
  const expiresAt = earliest(earliest(peer?.expiresAt, svid?.expiresAt), user?.expiresAt);
  if (expiresAt !== undefined) subject.expiresAt = expiresAt;
  return Object.freeze(subject);
}

function conflict(message: string): never {
  throw new IdentityError('ERR_IDENTITY_CONFLICT', 'token', message);
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
