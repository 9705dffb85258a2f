/**
 * One X509SVIDResponse (as grpc-js decodes it) into meshwarden's own X.509-SVID, ready for a
 * TLS listener: the chain, its private key and the trust bundle of its domain, as PEM. The
 * first SVID of the response is the default one (SPIFFE Workload API §5.3). Nothing is taken
 * on the agent's word: the leaf must name the response's spiffe_id, the key must be the leaf's,
 * the chain must end at a root of the bundle. Errors name the field, never the key's bytes.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { tryParseSpiffeId } from '../../domain/index.js';
import { spiffeIdOfCertificate } from '../certificate-spiffe-id.js';
import { splitDerCertificates } from '../lib/der.js';

/** What grpc-js hands over of an X509SVIDResponse (bytes values). */
export interface RawSvidUpdate {
  readonly svids?: readonly RawSvid[];
}

interface RawSvid {
  readonly spiffe_id?: string;
  readonly x509_svid?: Uint8Array;
  readonly x509_svid_key?: Uint8Array;
  readonly bundle?: Uint8Array;
}

export type SvidErrorCode =
  | 'ERR_SVID_EMPTY'
  | 'ERR_SVID_ID_INVALID'
  | 'ERR_SVID_ID_MISMATCH'
  | 'ERR_SVID_CERT_INVALID'
  | 'ERR_SVID_KEY_INVALID'
  | 'ERR_SVID_KEY_MISMATCH'
  | 'ERR_SVID_BUNDLE_INVALID'
  | 'ERR_SVID_UNTRUSTED'
  | 'ERR_SVID_NOT_VALID_NOW'
  | 'ERR_SVID_READ';

export class SvidError extends Error {
  override readonly name = 'SvidError';
  constructor(
    readonly code: SvidErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** meshwarden's own SVID, checked. PEM, as TLS servers take it. */
export interface WorkloadSvid {
  readonly spiffeId: string;
  /** Leaf first, then any intermediates. */
  readonly certChainPem: string;
  readonly keyPem: string;
  /** The roots of the SVID's own trust domain: the CA clients (Envoy) must chain to. */
  readonly bundlePem: string;
  readonly serialNumber: string;
  /** The leaf's notBefore, epoch ms: with expiresAt, its lifetime (how far rotation is overdue). */
  readonly validFrom: number;
  /** Epoch ms. */
  readonly expiresAt: number;
}

const WHERE = 'X509SVIDResponse.svids[0]';

/** `nowMs`: a leaf outside its validity at this time is refused (served, every handshake would fail). */
export function parseSvidUpdate(update: RawSvidUpdate, nowMs: number): WorkloadSvid {
  const svid = update?.svids?.[0];
  if (svid === undefined) throw new SvidError('ERR_SVID_EMPTY', 'X509SVIDResponse.svids: empty update');
  const spiffeId = tryParseSpiffeId(svid.spiffe_id ?? '');
  if (spiffeId === undefined || spiffeId.path === '') {
    throw new SvidError('ERR_SVID_ID_INVALID', `${WHERE}.spiffe_id: "${(svid.spiffe_id ?? '').slice(0, 200)}" is not a workload SPIFFE ID`);
  }
  const chain = certificates(svid.x509_svid, `${WHERE}.x509_svid`, 'ERR_SVID_CERT_INVALID');
  const leaf = chain[0]!;
  const named = spiffeIdOfCertificate(leaf.raw)?.uri;
  if (named !== spiffeId.uri) {
    throw new SvidError('ERR_SVID_ID_MISMATCH', `${WHERE}.x509_svid: the certificate names ${named ?? 'no single SPIFFE ID'}, the response says ${spiffeId.uri}`);
  }
  if (leaf.ca) throw new SvidError('ERR_SVID_CERT_INVALID', `${WHERE}.x509_svid: the leaf certificate is a CA`);
  requireValidAt(leaf, nowMs);
  const key = privateKey(svid.x509_svid_key);
  if (!leaf.checkPrivateKey(key)) throw new SvidError('ERR_SVID_KEY_MISMATCH', `${WHERE}.x509_svid_key: not the key of the certificate in x509_svid`);
  const roots = certificates(svid.bundle, `${WHERE}.bundle`, 'ERR_SVID_BUNDLE_INVALID');
  requireChainToRoots(chain, roots);
  return Object.freeze({
    spiffeId: spiffeId.uri,
    certChainPem: chain.map((certificate) => certificate.toString()).join(''),
    keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    bundlePem: roots.map((root) => root.toString()).join(''),
    serialNumber: leaf.serialNumber,
    validFrom: Date.parse(leaf.validFrom),
    expiresAt: Date.parse(leaf.validTo),
  });
}

function requireValidAt(leaf: X509Certificate, nowMs: number): void {
  if (nowMs < Date.parse(leaf.validFrom) || nowMs > Date.parse(leaf.validTo)) {
    throw new SvidError('ERR_SVID_NOT_VALID_NOW', `${WHERE}.x509_svid: valid from ${leaf.validFrom} to ${leaf.validTo}, not now (${new Date(nowMs).toISOString()})`);
  }
}

function certificates(der: Uint8Array | undefined, where: string, code: SvidErrorCode): X509Certificate[] {
  let parsed: X509Certificate[];
  try {
    parsed = splitDerCertificates(der ?? new Uint8Array()).map((bytes) => new X509Certificate(bytes));
  } catch (cause) {
    throw new SvidError(code, `${where}: not a list of DER certificates (${(cause as Error).message})`, { cause });
  }
  if (parsed.length === 0) throw new SvidError(code, `${where}: no certificate`);
  return parsed;
}

function privateKey(der: Uint8Array | undefined): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(der ?? []), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    // the cause's message is OpenSSL's, never the key's bytes
    throw new SvidError('ERR_SVID_KEY_INVALID', `${WHERE}.x509_svid_key: not a PKCS#8 DER private key (${(cause as Error).message})`, { cause });
  }
}

/** Each certificate is signed by the next; the last by a root of the bundle. */
function requireChainToRoots(chain: readonly X509Certificate[], roots: readonly X509Certificate[]): void {
  for (let index = 0; index + 1 < chain.length; index++) {
    if (!signedBy(chain[index]!, chain[index + 1]!)) {
      throw new SvidError('ERR_SVID_UNTRUSTED', `${WHERE}.x509_svid: certificate ${index} is not signed by certificate ${index + 1}`);
    }
  }
  const last = chain[chain.length - 1]!;
  if (!roots.some((root) => signedBy(last, root))) {
    throw new SvidError('ERR_SVID_UNTRUSTED', `${WHERE}.x509_svid: the chain does not end at a root of ${WHERE}.bundle`);
  }
}

function signedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}
