/**
 * X.509-SVIDs for the through-Envoy suite, made with openssl at test time (test/identity/helpers/pki.ts):
 * Envoy's own serving SVID and the callers' client SVIDs, issued by the trust domains' roots.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPki, type Issuer } from '../../identity/helpers/pki.js';
import type { ClientTls } from './http-client.js';
import type { DownstreamTls } from './bootstrap.js';

export const ENVOY_ID = 'spiffe://a.test/ns/shop/sa/orders';

export class MeshPki {
  readonly pki = new TestPki();
  readonly #ca: Issuer;

  /** `ca` signs Envoy's serving certificate, and is what clients trust. */
  constructor(ca: Issuer) {
    this.#ca = ca;
    this.pki.leaf('envoy', ca, { extra: [`subjectAltName=DNS:localhost,IP:127.0.0.1,URI:${ENVOY_ID}`] });
  }

  /** Envoy's serving certificate; with `trust`, client SVIDs are required and checked against those roots. */
  serving(trust?: readonly Issuer[]): DownstreamTls {
    return {
      certificateChain: join(this.pki.dir, 'envoy.pem'),
      privateKey: join(this.pki.dir, 'envoy.key'),
      ...(trust ? { spiffeTrustDomains: trust.map((root) => ({ name: trustDomainOf(root), bundle: root.certPath })) } : {}),
    };
  }

  /** A new client SVID for `spiffeId` issued by `issuer`, as client TLS options. */
  svid(name: string, spiffeId: string, issuer: Issuer): ClientTls {
    const cert = this.pki.leaf(name, issuer, { uris: [spiffeId] });
    return { ...this.anonymous(), cert, key: readFileSync(join(this.pki.dir, `${name}.key`)) };
  }

  /** TLS that trusts Envoy, presenting no certificate. */
  anonymous(): ClientTls {
    return { ca: this.#ca.pem, servername: 'localhost' };
  }

  /** A root of its own (another trust domain, or an impostor of one). */
  root(name: string, trustDomain: string): Issuer {
    return this.pki.root(name, trustDomain);
  }
}

/** Roots carry `URI:spiffe://TD` (pki.ts); the trust domain is read back from the certificate. */
function trustDomainOf(root: Issuer): string {
  const san = new X509Certificate(root.pem).subjectAltName ?? '';
  const match = /URI:spiffe:\/\/([^,/\s]+)/.exec(san);
  if (!match) throw new Error(`root ${root.name} names no trust domain`);
  return match[1]!;
}
