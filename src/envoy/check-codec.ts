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
import type {
  CheckRequestMessage,
  CheckResponseMessage,
  HeaderValueOptionMessage,
  ListValueMessage,
  StructMessage,
  ValueMessage,
} from './wire-messages.js';

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

/**
 * CheckResponse → bytes, written by hand: this runs once per Check, and protobufjs' writer
 * allocates an operation object per field (a cache-hit answer has about forty) before it
 * copies them out. The same bytes as `checkResponseType.encode` for every CheckResponseMessage
 * (fields in number order; proto3 scalars only when not their default, message fields and
 * oneof members whenever present; repeated fields element by element; map entries in key
 * order), held to it by test/envoy/check-codec.test.ts.
 */
export function encodeCheckResponse(message: CheckResponseMessage): Buffer {
  for (;;) {
    const out = new ReverseWriter(scratch);
    try {
      writeCheckResponse(out, message);
      return out.finish();
    } catch (error) {
      if (error !== ReverseWriter.FULL) throw error;
      scratch = Buffer.allocUnsafeSlow(scratch.length * 2); // a large answer: grow and write it again
    }
  }
}

/** The protobufjs encoder, for the tests that hold encodeCheckResponse to it. */
export function encodeCheckResponseReference(message: CheckResponseMessage): Buffer {
  return asBuffer(checkResponseType.encode(message).finish());
}

/** A Buffer for the transport; protobufjs returns one under Node, so this rarely copies. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Grows only for an answer that did not fit; every answer is copied out of it. */
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const tag = (field: number, wire: number) => (field << 3) | wire;

/**
 * Protobuf written back to front: a field's content first, then its length and tag in front
 * of it, so no size has to be known before its content is written (one pass, no forks).
 */
class ReverseWriter {
  static readonly FULL = new RangeError('encode scratch buffer full');
  readonly #buf: Buffer;
  pos: number;

  constructor(buf: Buffer) {
    this.#buf = buf;
    this.pos = buf.length;
  }

  /** The bytes written, in a Buffer of their own. */
  finish(): Buffer {
    const bytes = Buffer.allocUnsafe(this.#buf.length - this.pos);
    this.#buf.copy(bytes, 0, this.pos);
    return bytes;
  }

  #room(bytes: number): void {
    if (this.pos < bytes) throw ReverseWriter.FULL;
  }

  /** A uint32 varint (a negative int32 is written as protobufjs does, 10 bytes). */
  varint(value: number): void {
    if (value < 0) return this.#varint64Negative(value);
    const buf = this.#buf;
    if (value < 0x80) {
      this.#room(1);
      buf[--this.pos] = value;
      return;
    }
    let size = 1;
    for (let v = value >>> 7; v !== 0; v >>>= 7) size++;
    this.#room(size);
    let at = (this.pos -= size);
    let v = value >>> 0;
    while (v > 0x7f) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
  }

  #varint64Negative(value: number): void {
    this.#room(10);
    const buf = this.#buf;
    let at = (this.pos -= 10);
    let lo = value >>> 0;
    let hi = 0xffffffff; // sign extension of a negative int32
    for (let i = 0; i < 9; i++) {
      buf[at++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[at] = lo & 0x7f;
  }

  double(value: number): void {
    this.#room(8);
    this.#buf.writeDoubleLE(value, (this.pos -= 8));
  }

  /** UTF-8 of `value`, no prefix; ASCII, the common case, byte by byte. */
  utf8(value: string): void {
    const length = value.length;
    const buf = this.#buf;
    if (length <= 64) {
      // as ASCII, optimistically: one byte per character until one is not
      this.#room(length);
      const at = this.pos - length;
      let i = 0;
      for (let c: number; i < length && (c = value.charCodeAt(i)) < 0x80; i++) buf[at + i] = c;
      if (i === length) {
        this.pos = at;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.#room(bytes);
    buf.write(value, (this.pos -= bytes), bytes, 'utf8');
  }

  /** A length-delimited field whose content was written since `end` (the position before it). */
  delimited(field: number, end: number): void {
    this.varint(end - this.pos);
    this.varint(tag(field, WIRE_LENGTH_DELIMITED));
  }

  string(field: number, value: string): void {
    const end = this.pos;
    this.utf8(value);
    this.delimited(field, end);
  }

  uint(field: number, value: number): void {
    this.varint(value);
    this.varint(tag(field, WIRE_VARINT));
  }

  bool(field: number, value: boolean): void {
    this.varint(value ? 1 : 0);
    this.varint(tag(field, WIRE_VARINT));
  }
}

// Field numbers: envoy.service.auth.v3 (external_auth.proto), envoy.config.core.v3 (base.proto),
// google.rpc.Status, google.protobuf.Struct/Value/ListValue/BoolValue.

function writeCheckResponse(w: ReverseWriter, m: CheckResponseMessage): void {
  let end: number;
  if (m.dynamicMetadata != null) {
    end = w.pos;
    writeStruct(w, m.dynamicMetadata);
    w.delimited(4, end);
  }
  const ok = m.okResponse;
  if (ok != null) {
    end = w.pos;
    const remove = ok.headersToRemove;
    if (remove != null) for (let i = remove.length - 1; i >= 0; i--) w.string(5, remove[i]!);
    writeHeaderOptions(w, 2, ok.headers);
    w.delimited(3, end);
  }
  const denied = m.deniedResponse;
  if (denied != null) {
    end = w.pos;
    if (denied.body) w.string(3, denied.body);
    writeHeaderOptions(w, 2, denied.headers);
    if (denied.status != null) {
      const statusEnd = w.pos;
      if (denied.status.code) w.uint(1, denied.status.code);
      w.delimited(1, statusEnd);
    }
    w.delimited(2, end);
  }
  const status = m.status;
  if (status != null) {
    end = w.pos;
    if (status.message) w.string(2, status.message);
    if (status.code) w.uint(1, status.code);
    w.delimited(1, end);
  }
}

function writeHeaderOptions(w: ReverseWriter, field: number, options: readonly HeaderValueOptionMessage[] | null | undefined): void {
  if (options == null) return;
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i]!;
    const end = w.pos;
    const keepEmpty = (option as { keepEmptyValue?: boolean | null }).keepEmptyValue;
    if (keepEmpty) w.bool(4, keepEmpty);
    if (option.appendAction) w.uint(3, option.appendAction);
    if (option.append != null) {
      const appendEnd = w.pos;
      if (option.append.value) w.bool(1, option.append.value);
      w.delimited(2, appendEnd);
    }
    const header = option.header;
    if (header != null) {
      const headerEnd = w.pos;
      if (header.value) w.string(2, header.value);
      if (header.key) w.string(1, header.key);
      w.delimited(1, headerEnd);
    }
    w.delimited(field, end);
  }
}

/** google.protobuf.Struct: `map<string, Value> fields = 1`, entries in Object.keys order. */
function writeStruct(w: ReverseWriter, struct: StructMessage): void {
  const fields = struct.fields;
  if (fields == null) return;
  const keys = Object.keys(fields);
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    const end = w.pos;
    const valueEnd = w.pos;
    const value = fields[key];
    if (value != null) writeValue(w, value);
    w.delimited(2, valueEnd);
    w.string(1, key);
    w.delimited(1, end);
  }
}

/** google.protobuf.Value: every member that is set (a well-formed one has exactly one). */
function writeValue(w: ReverseWriter, value: ValueMessage): void {
  let end: number;
  if (value.listValue != null) {
    end = w.pos;
    writeList(w, value.listValue);
    w.delimited(6, end);
  }
  if (value.structValue != null) {
    end = w.pos;
    writeStruct(w, value.structValue);
    w.delimited(5, end);
  }
  if (value.boolValue != null) w.bool(4, value.boolValue);
  if (value.stringValue != null) w.string(3, value.stringValue);
  if (value.numberValue != null) {
    w.double(value.numberValue);
    w.varint(tag(2, WIRE_FIXED64));
  }
  if (value.nullValue != null) w.uint(1, value.nullValue);
}

function writeList(w: ReverseWriter, list: ListValueMessage): void {
  const values = list.values;
  if (values == null) return;
  for (let i = values.length - 1; i >= 0; i--) {
    const end = w.pos;
    writeValue(w, values[i]!);
    w.delimited(1, end);
  }
}
