/**
 * The SPIFFE ID a certificate claims: its one URI SAN, parsed strictly (X509-SVID §2). For
 * callers that already trust the chain (a TLS handshake verified it) and only need the name.
 */
import { tryParseSpiffeId, type SpiffeId } from '../domain/index.js';
import { readExtensions } from './lib/der.js';

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
