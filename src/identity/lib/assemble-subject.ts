/**
 * Combines what each credential established into one Subject. Credentials that each verify
 * but name different callers are a conflict, never a choice.
 */
import type { EndUser, Subject } from '../../domain/subject.js';
import { ANONYMOUS } from '../../domain/subject.js';
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
  const workload = useSvid ? svid?.workload : peer?.id;
  const evidence = useSvid ? 'jwt-svid' : peer?.evidence;
  const expiresAt = earliest(peer?.expiresAt, svid?.expiresAt, user?.expiresAt);
  return Object.freeze({
    ...(workload === undefined ? {} : { workload, workloadEvidence: evidence }),
    ...(user === undefined ? {} : { user }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });
}

function conflict(message: string): never {
  throw new IdentityError('ERR_IDENTITY_CONFLICT', 'token', message);
}

function earliest(...times: (number | undefined)[]): number | undefined {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}
