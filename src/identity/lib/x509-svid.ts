/**
 * X.509-SVID verification (SPIFFE X509-SVID standard §4-5): the leaf has exactly one URI SAN,
 * is not a CA, may sign but not certify, and chains to one of its trust domain's roots within
 * every certificate's validity window. Synchronous: node:crypto verifies in the caller's turn.
 */
import { X509Certificate } from 'node:crypto';
import { IdentityError, type CredentialKind, type IdentityErrorCode } from '../errors.js';
import { KEY_USAGE, readExtensions, type CertificateExtensions } from './der.js';

export interface VerifiedX509Svid {
  /** The single URI SAN, as written in the certificate. */
  readonly uri: string;
  /** Leaf notAfter, epoch seconds. */
  readonly notAfter: number;
}

export interface X509VerifyContext {
  readonly roots: readonly X509Certificate[];
  readonly nowMs: number;
  readonly toleranceMs: number;
  readonly credential: CredentialKind;
}

const MAX_CHAIN = 8;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;
/** Extensions a leaf may mark critical: anything else we do not process and must refuse. */
const KNOWN_CRITICAL = new Set(['2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.37', '2.5.29.14', '2.5.29.35']);

/** Splits PEM text into certificates; throws on anything that is not one. */
export function parsePemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

export function verifyX509Svid(leafPem: string, chainPem: string | undefined, ctx: X509VerifyContext): VerifiedX509Svid {
  const leaf = parseLeaf(leafPem, ctx.credential);
  const extensions = readLeafExtensions(leaf, ctx.credential);
  checkLeafProfile(extensions, ctx);
  checkValidity(leaf, ctx, 'leaf');
  const intermediates = chainPem === undefined ? [] : parseChain(chainPem, ctx.credential);
  verifyChain(leaf, intermediates, ctx);
  return { uri: extensions.uriSans[0] as string, notAfter: Math.floor(Date.parse(leaf.validTo) / 1000) };
}

function fail(code: IdentityErrorCode, ctx: { credential: CredentialKind }, message: string, cause?: unknown): never {
  throw new IdentityError(code, ctx.credential, message, { cause });
}

function parseLeaf(pem: string, credential: CredentialKind): X509Certificate {
  let certs: X509Certificate[];
  try {
    certs = parsePemCertificates(pem);
  } catch (cause) {
    fail('ERR_X509_MALFORMED', { credential }, 'peer certificate is not valid PEM/DER', cause);
  }
  if (certs.length !== 1) fail('ERR_X509_MALFORMED', { credential }, `expected one peer certificate, found ${certs.length}`);
  return certs[0] as X509Certificate;
}

function parseChain(pem: string, credential: CredentialKind): X509Certificate[] {
  try {
    return parsePemCertificates(pem).slice(0, MAX_CHAIN);
  } catch (cause) {
    fail('ERR_X509_MALFORMED', { credential }, 'certificate chain is not valid PEM/DER', cause);
  }
}

function readLeafExtensions(leaf: X509Certificate, credential: CredentialKind): CertificateExtensions {
  try {
    return readExtensions(leaf.raw);
  } catch (cause) {
    fail('ERR_X509_MALFORMED', { credential }, 'peer certificate extensions are malformed', cause);
  }
}

function checkLeafProfile(ext: CertificateExtensions, ctx: { credential: CredentialKind }): void {
  if (ext.uriSans.length !== 1) fail('ERR_X509_URI_SAN_COUNT', ctx, `leaf must have exactly one URI SAN, has ${ext.uriSans.length}`);
  if (ext.isCa) fail('ERR_X509_LEAF_IS_CA', ctx, 'leaf certificate is a CA (basicConstraints cA=true)');
  const usage = ext.keyUsage;
  if (usage === undefined || (usage & KEY_USAGE.digitalSignature) === 0) {
    fail('ERR_X509_KEY_USAGE', ctx, 'leaf Key Usage must include digitalSignature');
  }
  if ((usage & (KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)) !== 0) {
    fail('ERR_X509_KEY_USAGE', ctx, 'leaf Key Usage must not include keyCertSign or cRLSign');
  }
  const unknown = ext.critical.find((oid) => !KNOWN_CRITICAL.has(oid));
  if (unknown !== undefined) fail('ERR_X509_CRITICAL_EXTENSION', ctx, `leaf has unsupported critical extension ${unknown}`);
}

function checkValidity(cert: X509Certificate, ctx: X509VerifyContext, which: string): void {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!(ctx.nowMs + ctx.toleranceMs >= notBefore)) fail('ERR_X509_NOT_YET_VALID', ctx, `${which} certificate is not yet valid`);
  if (!(ctx.nowMs - ctx.toleranceMs <= notAfter)) fail('ERR_X509_EXPIRED', ctx, `${which} certificate has expired`);
}

/** Walks leaf → intermediates → a configured root; every link checked by name and signature. */
function verifyChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], ctx: X509VerifyContext): void {
  let current = leaf;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    const root = ctx.roots.find((candidate) => issuedBy(current, candidate));
    if (root !== undefined) {
      checkValidity(root, ctx, 'root');
      return;
    }
    const parent = intermediates.find((candidate) => candidate !== current && issuedBy(current, candidate));
    if (parent === undefined || parent.ca !== true) break;
    checkValidity(parent, ctx, 'intermediate');
    current = parent;
  }
  fail('ERR_X509_UNTRUSTED_CHAIN', ctx, "certificate does not chain to the trust domain's roots");
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  // checkIssued compares names and key identifiers and refuses an issuer without keyCertSign
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}
