/**
 * A PEM file of CA certificates that verify an off-box collector's server (an operator's
 * internal CA), read and checked once at start-up so a wrong path or a file without a
 * certificate stops the start naming the option and the path, never a send later on.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TelemetryOptionError } from './errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The file's certificates as PEM text, for a TLS `ca` option. */
export function readCaFile(path: string, option: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TelemetryOptionError('ERR_TELEMETRY_CA', option, `cannot read ${path} (${code})`);
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw new TelemetryOptionError('ERR_TELEMETRY_CA', option, `${path} holds no PEM certificate`);
  certificates.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new TelemetryOptionError('ERR_TELEMETRY_CA', option, `${path}: certificate ${index + 1} is not a valid X.509 certificate`);
    }
  });
  return certificates.join('\n');
}
