/**
 * Two generations of listener TLS material (each a server certificate, its key and the CA
 * that clients chain to), made with the openssl CLI in a temp dir, fresh every run.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPki } from '../../identity/helpers/pki.js';

export interface TlsGeneration {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface TlsFixtures {
  readonly first: TlsGeneration;
  readonly second: TlsGeneration;
}

export function tlsFixtures(): TlsFixtures {
  const pki = new TestPki();
  const generation = (n: number): TlsGeneration => {
    const ca = pki.root(`ca-${n}`, 'mesh.test');
    const cert = pki.leaf(`server-${n}`, ca, { extra: ['subjectAltName=IP:127.0.0.1'] });
    return { cert, key: readFileSync(join(pki.dir, `server-${n}.key`), 'utf8'), ca: ca.pem };
  };
  return { first: generation(1), second: generation(2) };
}

/** Writes `content` as careful writers do: a temp file in the same directory, renamed into place. */
export function renameIntoPlace(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}
