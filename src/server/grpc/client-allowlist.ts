/**
 * Transport admission on the mTLS listener: only clients whose certificate names an allowed
 * SPIFFE ID (its URI SAN) may call anything; others end with PERMISSION_DENIED before any
 * handler runs. Not a Check decision: a refused client gets no CheckResponse at all.
 */
import type { PeerCertificate } from 'node:tls';
import { ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import { parseSpiffeId, spiffeIdOfCertificate } from '../../identity/index.js';

export interface ClientAllowlistOptions {
  /** Told once per distinct refused client ID (bounded), for the log. Must not throw. */
  readonly onRefused?: (clientId: string | undefined) => void;
}

/** Verdicts per certificate fingerprint: a connection's calls parse its certificate once. */
const MAX_REMEMBERED = 1024;

/** Misused options (an empty list, an ID that is not a SPIFFE ID) throw a TypeError at start-up. */
export function clientAllowlistInterceptor(allowedClientIds: readonly string[], options: ClientAllowlistOptions = {}): ServerInterceptor {
  const allowed = allowedSet(allowedClientIds);
  const verdicts = new Map<string, boolean>();
  const reported = new Set<string | undefined>();
  const admits = (certificate: PeerCertificate | undefined): boolean => {
    if (certificate?.raw === undefined) return refuse(undefined);
    const known = verdicts.get(certificate.fingerprint256);
    if (known !== undefined) return known;
    const id = spiffeIdOfCertificate(certificate.raw)?.uri;
    const verdict = id !== undefined && allowed.has(id) ? true : refuse(id);
    if (verdicts.size >= MAX_REMEMBERED) verdicts.clear();
    verdicts.set(certificate.fingerprint256, verdict);
    return verdict;
  };
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
  return (_method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (admits(call.getAuthContext().sslPeerCertificate)) next(metadata);
        else call.sendStatus({ code: status.PERMISSION_DENIED, details: 'client identity is not allowed on this listener' });
      })
      .build();
    return new ServerInterceptingCall(call, { start: (next) => next(listener) });
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
