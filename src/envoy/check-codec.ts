/**
 * Encodes and decodes CheckRequest / CheckResponse with protobufjs over our trimmed protos.
 * The protos are parsed once, at import; protobufjs then generates a specialised decoder
 * per message type, so the hot path runs compiled code, not a generic object walk. (We load
 * .proto files rather than generated static code: no code generator is among our
 * dependencies, and the runtime-generated codecs are the same code pbjs would emit.)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { Root } from 'protobufjs';
import type { CheckRequestMessage, CheckResponseMessage } from './wire-messages.js';

/** `proto/` sits two levels above both `src/envoy/` and `dist/envoy/`. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const EXT_AUTHZ_PROTO = 'envoy/service/auth/v3/external_auth.proto';

/** Loads our trimmed protos into a fresh protobufjs Root (also used by the conformance test). */
export function loadTrimmedProtos(): Root {
  const root = new protobuf.Root();
  // Imports are written from the proto root, as protoc's include path would resolve them.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(EXT_AUTHZ_PROTO);
  root.resolveAll();
  return root;
}

const root = loadTrimmedProtos();
const checkRequestType = root.lookupType('envoy.service.auth.v3.CheckRequest');
const checkResponseType = root.lookupType('envoy.service.auth.v3.CheckResponse');

export function decodeCheckRequest(bytes: Uint8Array): CheckRequestMessage {
  return checkRequestType.decode(bytes) as CheckRequestMessage;
}

export function encodeCheckRequest(message: CheckRequestMessage): Buffer {
  return asBuffer(checkRequestType.encode(message).finish());
}

export function decodeCheckResponse(bytes: Uint8Array): CheckResponseMessage {
  return checkResponseType.decode(bytes) as unknown as CheckResponseMessage;
}

export function encodeCheckResponse(message: CheckResponseMessage): Buffer {
  return asBuffer(checkResponseType.encode(message).finish());
}

/** A Buffer for the transport; protobufjs returns one under Node, so this rarely copies. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
