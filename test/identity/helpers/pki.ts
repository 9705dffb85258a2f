/**
 * Test PKI built with the openssl CLI in a temp dir: CAs and leaves with exactly the
 * extensions a case needs. Nothing here is committed; every run makes fresh keys.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issuer {
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly pem: string;
}

export interface LeafSpec {
  readonly uris?: readonly string[];
  readonly ca?: boolean;
  readonly keyUsage?: string;
  readonly days?: number;
  /** Extra extension lines for the config section. */
  readonly extra?: readonly string[];
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'meshwarden-pki-'));
  #serial = 1;

  root(name: string, trustDomain: string): Issuer {
    const section = [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
      `subjectAltName=URI:spiffe://${trustDomain}`,
      'subjectKeyIdentifier=hash',
    ];
    const config = this.#config(name, section);
    const keyPath = join(this.dir, `${name}.key`);
    const certPath = join(this.dir, `${name}.pem`);
    this.#openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath,
      '-out', certPath, '-days', '3650', '-subj', `/O=${name}`, '-config', config, '-extensions', 'ext']);
    return { name, certPath, keyPath, pem: readFileSync(certPath, 'utf8') };
  }

  intermediate(name: string, parent: Issuer): Issuer {
    const certPath = this.#sign(name, parent, ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'], 1825);
    return { name, certPath, keyPath: join(this.dir, `${name}.key`), pem: readFileSync(certPath, 'utf8') };
  }

  leaf(name: string, parent: Issuer, spec: LeafSpec = {}): string {
    const lines = [
      `basicConstraints=critical,CA:${spec.ca === true ? 'TRUE' : 'FALSE'}`,
      `keyUsage=critical,${spec.keyUsage ?? 'digitalSignature,keyEncipherment'}`,
      'authorityKeyIdentifier=keyid',
      ...(spec.uris && spec.uris.length > 0 ? [`subjectAltName=${spec.uris.map((u) => `URI:${u}`).join(',')}`] : []),
      ...(spec.extra ?? []),
    ];
    return readFileSync(this.#sign(name, parent, lines, spec.days ?? 30), 'utf8');
  }

  #sign(name: string, parent: Issuer, section: readonly string[], days: number): string {
    const keyPath = join(this.dir, `${name}.key`);
    const csrPath = join(this.dir, `${name}.csr`);
    const certPath = join(this.dir, `${name}.pem`);
    const config = this.#config(name, section);
    this.#openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath,
      '-out', csrPath, '-subj', `/O=${name}`, '-config', config]);
    this.#openssl(['x509', '-req', '-in', csrPath, '-CA', parent.certPath, '-CAkey', parent.keyPath, '-set_serial',
      String(this.#serial++), '-days', String(days), '-extfile', config, '-extensions', 'ext', '-out', certPath]);
    return certPath;
  }

  #config(name: string, section: readonly string[]): string {
    const path = join(this.dir, `${name}.cnf`);
    writeFileSync(path, ['[req]', 'distinguished_name=dn', '[dn]', '[ext]', ...section, ''].join('\n'));
    return path;
  }

  #openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }
}

/** A SPIFFE bundle key entry for a CA certificate. */
export function x509BundleKey(pem: string, kid?: string): Record<string, unknown> {
  const cert = new X509Certificate(pem);
  const jwk = cert.publicKey.export({ format: 'jwk' });
  return { ...jwk, use: 'x509-svid', x5c: [cert.raw.toString('base64')], ...(kid === undefined ? {} : { kid }) };
}

/** Envoy's URL-encoded PEM, as in `source.certificate` and XFCC Cert/Chain. */
export function urlEncodedPem(pem: string): string {
  return encodeURIComponent(pem);
}
