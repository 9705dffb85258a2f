/**
 * Checks a set of listener TLS files before it is served: a certificate chain that parses, a
 * private key that belongs to its leaf, a client CA bundle of whole certificates, and a secure
 * context OpenSSL accepts. A half-written, mismatched or garbage set never reaches the listener.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { GrpcTlsMaterial } from '../grpc/listener.js';

export type TlsMaterialErrorCode =
  | 'ERR_TLS_FILE_UNREADABLE'
  | 'ERR_TLS_CERT_INVALID'
  | 'ERR_TLS_KEY_INVALID'
  | 'ERR_TLS_KEY_MISMATCH'
  | 'ERR_TLS_CLIENT_CA_INVALID'
  | 'ERR_TLS_CONTEXT_REFUSED';

export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
  constructor(
    readonly code: TlsMaterialErrorCode,
    /** The file at fault (the certificate's, for a pair that does not match). */
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface TlsMaterialPaths {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string;
}

/** What a log line needs to tell one served certificate from the next. */
export interface ServedCertificate {
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly subject: string;
  readonly validTo: string;
}

export interface CheckedTlsMaterial {
  readonly material: GrpcTlsMaterial;
  readonly certificate: ServedCertificate;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const PEM_BEGIN = /-----BEGIN CERTIFICATE-----/g;

/** Throws a TlsMaterialError naming the file at fault; returns the material as read. */
export function checkTlsMaterial(material: GrpcTlsMaterial, paths: TlsMaterialPaths): CheckedTlsMaterial {
  const leaf = certificates(material.cert, paths.cert, 'ERR_TLS_CERT_INVALID')[0] as X509Certificate;
  const key = privateKey(material.key, paths.key);
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsMaterialError('ERR_TLS_KEY_MISMATCH', paths.cert, `the key in ${paths.key} is not the key of the certificate in ${paths.cert}`);
  }
  if (material.clientCa !== undefined) certificates(material.clientCa, paths.clientCa ?? '(clientCa)', 'ERR_TLS_CLIENT_CA_INVALID');
  try {
    createSecureContext({ cert: material.cert, key: material.key, ...(material.clientCa ? { ca: material.clientCa } : {}) });
  } catch (error) {
    throw new TlsMaterialError('ERR_TLS_CONTEXT_REFUSED', paths.cert, `OpenSSL refuses the TLS material: ${messageOf(error)}`, { cause: error });
  }
  return { material, certificate: served(leaf) };
}

/**
 * Every PEM block must be a whole certificate: a bundle cut short by a writer still at work
 * would otherwise pass as its first, complete certificates.
 */
function certificates(pem: Buffer, path: string, code: TlsMaterialErrorCode): X509Certificate[] {
  const text = pem.toString('latin1');
  const blocks = text.match(PEM_BLOCK) ?? [];
  const begun = text.match(PEM_BEGIN)?.length ?? 0;
  if (blocks.length === 0) throw new TlsMaterialError(code, path, `${path} holds no PEM certificate`);
  if (begun !== blocks.length) throw new TlsMaterialError(code, path, `${path} holds a PEM block that is not a whole certificate`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsMaterialError(code, path, `certificate ${index + 1} in ${path} does not parse: ${messageOf(error)}`, { cause: error });
    }
  });
}

function privateKey(pem: Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new TlsMaterialError('ERR_TLS_KEY_INVALID', path, `${path} holds no usable private key: ${messageOf(error)}`, { cause: error });
  }
}

function served(certificate: X509Certificate): ServedCertificate {
  return {
    serialNumber: certificate.serialNumber,
    fingerprint256: certificate.fingerprint256,
    subject: certificate.subject.replaceAll('\n', ', '),
    validTo: certificate.validTo,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
