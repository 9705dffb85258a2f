/**
 * A PEM file of CA certificates that verify an off-box collector's server (an operator's
 * internal CA), read and checked once at start-up so a wrong path or a file without a
 * certificate stops the start naming the option and the path, never a send later on; and so
 * does a CA given for a plain http:// collector, where it would verify nothing.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TelemetryOptionError } from './errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CaFileOption {
  /** Where the option is written, e.g. `decisionLog.sinks[0].caFile`. */
  readonly option: string;
  readonly path: string;
  /** The collector's URL, and where it is written. */
  readonly url: string;
  readonly urlOption: string;
}

/** The file's certificates as PEM text, for a TLS `ca` option. */
export function readCaFile({ option, path, url, urlOption }: CaFileOption): string {
  const certificates = readCertificates(path, option);
  if (!url.startsWith('https:')) throw new TelemetryOptionError('ERR_TELEMETRY_CA', option, `verifies an https:// url; ${urlOption} is http://`);
  return certificates;
}

function readCertificates(path: string, option: string): string {
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
