/**
 * The few facts of an X.509 certificate that node:crypto's X509Certificate does not expose
 * (Key Usage bits, basic constraints, raw URI SANs, critical extensions), read from the DER.
 * Written here because no dependency in the stack parses them; it reads, never trusts: any
 * structure it does not expect is an error.
 */

interface Tlv {
  readonly tag: number;
  /** Start and end of the contents. */
  readonly start: number;
  readonly end: number;
}

export interface CertificateExtensions {
  /** Key Usage bits as a number (bit 0 = digitalSignature = 0x80 of the first byte...), undefined when absent. */
  readonly keyUsage?: number;
  readonly isCa: boolean;
  readonly uriSans: readonly string[];
  /** OIDs (dotted) of critical extensions. */
  readonly critical: readonly string[];
}

export const KEY_USAGE = { digitalSignature: 0x80, keyCertSign: 0x04, cRLSign: 0x02 } as const;

const OID_KEY_USAGE = '2.5.29.15';
const OID_SAN = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';

export function readExtensions(der: Uint8Array): CertificateExtensions {
  const cert = sequence(der, 0, der.length);
  const tbs = sequence(der, cert.start, cert.end);
  const extensions = findExplicit(der, tbs, 0xa3);
  const result = { keyUsage: undefined as number | undefined, isCa: false, uriSans: [] as string[], critical: [] as string[] };
  if (extensions === undefined) return result;
  const seen = new Set<string>();
  const list = sequence(der, extensions.start, extensions.end);
  for (let at = list.start; at < list.end; ) {
    const ext = sequence(der, at, list.end);
    readExtension(der, ext, result, seen);
    at = ext.end;
  }
  return result;
}

/** Splits concatenated DER certificates (the Workload API's bundle bytes) into one buffer each. */
export function splitDerCertificates(der: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < der.length; ) {
    const cert = sequence(der, at, der.length);
    parts.push(der.subarray(at, cert.end));
    at = cert.end;
  }
  return parts;
}

function readExtension(
  der: Uint8Array,
  ext: Tlv,
  result: { keyUsage: number | undefined; isCa: boolean; uriSans: string[]; critical: string[] },
  seen: Set<string>,
): void {
  const oidTlv = expect(der, ext.start, ext.end, 0x06);
  const oid = decodeOid(der.subarray(oidTlv.start, oidTlv.end));
  if (seen.has(oid)) throw new Error(`extension ${oid} appears twice`);
  seen.add(oid);
  let next = readTlv(der, oidTlv.end, ext.end);
  if (next.tag === 0x01) {
    if (der[next.start] !== 0x00) result.critical.push(oid);
    next = readTlv(der, next.end, ext.end);
  }
  if (next.tag !== 0x04) throw new Error('extension value is not an OCTET STRING');
  const value = der.subarray(next.start, next.end);
  if (oid === OID_KEY_USAGE) result.keyUsage = decodeKeyUsage(value);
  else if (oid === OID_BASIC_CONSTRAINTS) result.isCa = decodeIsCa(value);
  else if (oid === OID_SAN) result.uriSans.push(...decodeUriSans(value));
}

function decodeKeyUsage(value: Uint8Array): number {
  const bits = expect(value, 0, value.length, 0x03);
  if (bits.end - bits.start < 2) return 0;
  return value[bits.start + 1] ?? 0;
}

function decodeIsCa(value: Uint8Array): boolean {
  const seq = sequence(value, 0, value.length);
  if (seq.start === seq.end) return false;
  const first = readTlv(value, seq.start, seq.end);
  return first.tag === 0x01 && value[first.start] !== 0x00;
}

function decodeUriSans(value: Uint8Array): string[] {
  const seq = sequence(value, 0, value.length);
  const uris: string[] = [];
  for (let at = seq.start; at < seq.end; ) {
    const name = readTlv(value, at, seq.end);
    // [6] IMPLICIT IA5String: uniformResourceIdentifier
    if (name.tag === 0x86) uris.push(Buffer.from(value.subarray(name.start, name.end)).toString('latin1'));
    at = name.end;
  }
  return uris;
}

/** Finds the optional [n] EXPLICIT field of TBSCertificate (extensions are [3]). */
function findExplicit(der: Uint8Array, tbs: Tlv, tag: number): Tlv | undefined {
  for (let at = tbs.start; at < tbs.end; ) {
    const field = readTlv(der, at, tbs.end);
    if (field.tag === tag) return field;
    at = field.end;
  }
  return undefined;
}

function sequence(der: Uint8Array, at: number, limit: number): Tlv {
  return expect(der, at, limit, 0x30);
}

function expect(der: Uint8Array, at: number, limit: number, tag: number): Tlv {
  const tlv = readTlv(der, at, limit);
  if (tlv.tag !== tag) throw new Error(`expected DER tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`);
  return tlv;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  const tag = der[at];
  const first = der[at + 1];
  if (tag === undefined || first === undefined || at + 2 > limit) throw new Error('truncated DER');
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte DER tags are not used in certificates');
  let length = first;
  let start = at + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] ?? 0);
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new Error('DER length overruns its container');
  return { tag, start, end };
}

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}
