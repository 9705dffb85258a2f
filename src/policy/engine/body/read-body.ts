/**
 * The request body as `request.body.json[...]` conditions see it: parsed JSON, or the reason
 * it cannot be trusted to be what the workload receives. Never an allow from what was not
 * seen: a body Envoy cut short, one over the size bound, one not declared or not valid as
 * UTF-8 JSON, one nested past the depth bound, one holding a number written otherwise than its double reads
 * is unseen as a whole, and its fields with it.
 */
import type { AccessRequest } from '../../../domain/index.js';
import type { BodyPaths } from './body-paths.js';
import { INEXACT_NUMBER, scanJson, TOO_DEEP, type RepeatedMembers } from './scan-json.js';

export type BodyUnseen =
  | 'no_body'
  | 'partial_body'
  | 'body_too_large'
  | 'not_json_content_type'
  | 'encoded_body'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'too_deep'
  | 'inexact_number';

export interface BodyJson {
  readonly root: unknown;
  /** Members named twice on a read path (scanJson); undefined when none was. */
  readonly repeated: RepeatedMembers | undefined;
}

export type BodyRead = BodyJson | BodyUnseen;

export interface BodyLimits {
  /** Bodies longer than this are not parsed (config `maxBodyBytes`). */
  readonly maxBytes: number;
  /** Objects and arrays nested deeper than this make the body unseen. */
  readonly maxDepth: number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Deeper than any request body we know of, shallow enough that nothing recursive could suffer. */
export const MAX_BODY_DEPTH = 32;

/** Envoy sets it on a body cut at `max_request_bytes` (`allow_partial_message: true`). */
const PARTIAL_BODY_HEADER = 'x-envoy-auth-partial-body';

// Fatal: invalid UTF-8 is refused, not replaced; the BOM is kept, so JSON.parse refuses it (RFC 8259 §8.1).
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Cheap checks first: nothing is decoded or parsed that a header or the size already rules out. */
export function readBody(request: AccessRequest, limits: BodyLimits, paths: BodyPaths): BodyRead {
  const bytes = request.body;
  if (bytes === undefined || bytes.length === 0) return 'no_body';
  const headers = request.headers;
  const partial = headers.get(PARTIAL_BODY_HEADER);
  if (partial !== undefined && partial !== 'false') return 'partial_body';
  if (bytes.length > limits.maxBytes) return 'body_too_large';
  if (!isJsonContentType(headers.get('content-type'))) return 'not_json_content_type';
  if (!isIdentityEncoding(headers.get('content-encoding'))) return 'encoded_body';
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return 'invalid_utf8';
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return 'invalid_json';
  }
  const repeated = scanJson(text, limits.maxDepth, paths);
  if (repeated === TOO_DEEP || repeated === INEXACT_NUMBER) return repeated;
  return { root, repeated };
}

/**
 * `application/json`, with no charset or `utf-8`. A list of types (a repeated header, joined)
 * or any other type is refused: the workload may read the body as something else.
 */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...parameters] = value.split(';');
  if (type!.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const equals = parameter.indexOf('=');
    const name = (equals === -1 ? parameter : parameter.slice(0, equals)).trim().toLowerCase();
    if (name !== 'charset') return true;
    const charset = equals === -1 ? '' : parameter.slice(equals + 1).trim().toLowerCase();
    return charset === 'utf-8' || charset === '"utf-8"';
  });
}

/** Envoy forwards the body as sent: a compressed one is not the JSON the workload decodes. */
function isIdentityEncoding(value: string | undefined): boolean {
  return value === undefined || value.trim().toLowerCase() === 'identity';
}
