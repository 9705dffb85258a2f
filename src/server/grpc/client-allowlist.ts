/**
 * Transport admission on the mTLS listener: only clients whose certificate names an allowed
 * SPIFFE ID (its URI SAN) may call anything; others end with PERMISSION_DENIED before any
 * handler runs. Not a Check decision: a refused client gets no CheckResponse at all.
 */
import type { PeerCertificate } from 'node:tls';
import { parseSpiffeId } from '../../domain/index.js';
import { spiffeIdOfCertificate } from '../../identity/index.js';
import type { ClientAdmission } from './listener.js';

export interface ClientAllowlistOptions {
  /** Told once per distinct refused client ID (bounded), for the log. Must not throw. */
  readonly onRefused?: (clientId: string | undefined) => void;
}

/** Refused IDs remembered for the once-per-client log line. */
const MAX_REMEMBERED = 1024;

/** Misused options (an empty list, an ID that is not a SPIFFE ID) throw a TypeError at start-up. */
export function clientAllowlist(allowedClientIds: readonly string[], options: ClientAllowlistOptions = {}): ClientAdmission {
  const allowed = allowedSet(allowedClientIds);
  const reported = new Set<string | undefined>();
  const refuse = (id: string | undefined): false => {
    if (!reported.has(id) && reported.size < MAX_REMEMBERED) {
      reported.add(id);
      try {
        options.onRefused?.(id);
      } catch {
        // a logging hook never decides admission
      }
    }
    return false;
  };
  return (certificate: PeerCertificate | undefined): boolean => {
    if (certificate?.raw === undefined) return refuse(undefined);
    const id = spiffeIdOfCertificate(certificate.raw)?.uri;
    return id !== undefined && allowed.has(id) ? true : refuse(id);
  };
}

function allowedSet(ids: readonly string[]): ReadonlySet<string> {
  if (ids.length === 0) throw new TypeError('allowedClientIds is empty: leave it out to admit every client the CA vouches for');
  return new Set(
    ids.map((id) => {
      try {
        return parseSpiffeId(id).uri;
      } catch (error) {
        throw new TypeError(`allowedClientIds: "${id}": ${(error as Error).message}`);
      }
    }),
  );
}
