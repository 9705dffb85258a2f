/**
 * The SPIFFE ID a certificate claims: its one URI SAN, parsed strictly (X509-SVID §2). For
 * callers that already trust the chain (a TLS handshake verified it) and only need the name.
 */
import type { SpiffeId } from '../domain/spiffe-id.js';
import { readExtensions } from './lib/der.js';
import { tryParseSpiffeId } from '../domain/parse-spiffe-id.js';

/** Undefined when the DER is unreadable, or has no, several, or an invalid URI SAN. */
export function spiffeIdOfCertificate(der: Uint8Array): SpiffeId | undefined {
  let uris: readonly string[];
  try {
    uris = readExtensions(der).uriSans;
  } catch {
    return undefined;
  }
  return uris.length === 1 ? tryParseSpiffeId(uris[0]!) : undefined;
}
