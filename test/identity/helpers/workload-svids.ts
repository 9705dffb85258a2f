/**
 * X.509-SVIDs as the Workload API sends them (X509SVIDResponse's DER fields), made with the
 * test PKI: honest ones, and the hostile kinds a broken or malicious agent could send.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Issuer, TestPki } from './pki.js';
import type { SvidMessage } from './workload-api-double.js';

export interface IssuedSvid {
  readonly message: SvidMessage;
  /** The leaf, PEM (for assertions on what a handshake presents). */
  readonly pem: string;
  readonly serialNumber: string;
}

/** Issues a leaf `name` for `spiffeId` under `root` (IP 127.0.0.1 too, so hostname checks pass). */
export function issueSvid(pki: TestPki, root: Issuer, name: string, spiffeId: string, options: { uriInCert?: string } = {}): IssuedSvid {
  const pem = pki.leaf(name, root, { extra: [`subjectAltName=IP:127.0.0.1,URI:${options.uriInCert ?? spiffeId}`] });
  const certificate = new X509Certificate(pem);
  const key = createPrivateKey(readFileSync(join(pki.dir, `${name}.key`)));
  const message = {
    spiffe_id: spiffeId,
    x509_svid: certificate.raw,
    x509_svid_key: key.export({ format: 'der', type: 'pkcs8' }),
    bundle: new X509Certificate(root.pem).raw,
  };
  return { message, pem, serialNumber: certificate.serialNumber };
}

/** The PEM file of a leaf's key in the PKI dir, for clients that present it. */
export function keyFile(pki: TestPki, name: string): Buffer {
  return readFileSync(join(pki.dir, `${name}.key`));
}
