/**
 * Bounds on a CheckRequest, checked on its wire bytes before it is decoded: a small message
 * can inflate, or simply hold, more than any Envoy sends (hundreds of thousands of headers,
 * a path of `a/../` repeated for megabytes), and decoding, header normalization and path
 * canonicalization would each pay per element. One walk over the fields that can grow
 * (skipping everything else by length) measures them first.
 *
 * Field numbers are those of envoy.service.auth.v3 and its AttributeContext, held to the
 * official protos by test/conformance.
 */
import { InvalidRequestError } from './invalid-request-error.js';

export interface CheckRequestLimits {
  /** `headers` and `header_map` entries together. */
  readonly headers: number;
  /** Bytes of those entries (names, values and their framing). */
  readonly headerBytes: number;
  readonly pathBytes: number;
  /** The whole message less the request body Envoy may forward (`body`, `raw_body`). */
  readonly attributeBytes: number;
  /** `context_extensions` entries and `metadata_context` / `route_metadata_context` filter entries together. */
  readonly contextEntries: number;
  /** Every other field at the levels walked (CheckRequest, AttributeContext, Request, HttpRequest), unknown and repeated ones included. */
  readonly attributeFields: number;
}

const FIELD = {
  checkRequest: { attributes: 1 },
  attributes: { request: 4, contextExtensions: 10, metadataContext: 11, routeMetadataContext: 13 },
  metadata: { filterMetadata: 1, typedFilterMetadata: 2 },
  request: { http: 2 },
  http: { headers: 3, path: 4, body: 11, rawBody: 12, headerMap: 13 },
  headerMap: { headers: 1 },
} as const;

/** The levels of a CheckRequest the walk descends into; every other message is skipped whole. */
const enum Level {
  CheckRequest,
  Attributes,
  Request,
  Http,
  Metadata,
  HeaderMap,
}

/** Throws InvalidRequestError (`request_too_large`) naming the attribute over its limit. */
export function checkRequestWithinLimits(bytes: Uint8Array, limits: CheckRequestLimits): void {
  const walk = new LimitWalk(bytes, limits);
  try {
    walk.walk(Level.CheckRequest, 0, bytes.length);
  } catch (error) {
    if (error instanceof InvalidRequestError) throw error;
    return; // not a well-formed message: the decoder says so, with its own answer
  }
  walk.checkTotal();
}

/**
 * One pass over the wire bytes, on the hot path: a varint reader of its own and one object
 * per request (no reader, sub-buffer or closure per nested field).
 */
class LimitWalk {
  readonly #bytes: Uint8Array;
  readonly #limits: CheckRequestLimits;
  #pos = 0;
  #fields = 0;
  #contextEntries = 0;
  #headers = 0;
  #headerBytes = 0;
  #pathBytes = 0;
  #bodyBytes = 0;

  constructor(bytes: Uint8Array, limits: CheckRequestLimits) {
    this.#bytes = bytes;
    this.#limits = limits;
  }

  walk(level: Level, start: number, end: number): void {
    this.#pos = start;
    while (this.#pos < end) {
      const tag = this.#varint();
      const field = tag >>> 3;
      const wireType = tag & 7;
      this.#count(level, field);
      if (wireType !== 2) {
        this.#skip(wireType);
        continue;
      }
      const length = this.#varint();
      const from = this.#pos;
      const to = from + length;
      if (to > end) throw new RangeError('truncated field');
      this.#visit(level, field, from, to);
      this.#pos = to;
    }
  }

  checkTotal(): void {
    const attributeBytes = this.#bytes.length - this.#bodyBytes;
    if (attributeBytes > this.#limits.attributeBytes) {
      throw tooLarge('attributes', `${attributeBytes} bytes of attributes`, this.#limits, 'attributeBytes');
    }
  }

  #visit(level: Level, field: number, from: number, to: number): void {
    switch (level) {
      case Level.CheckRequest:
        if (field === FIELD.checkRequest.attributes) this.walk(Level.Attributes, from, to);
        return;
      case Level.Attributes:
        return this.#visitAttribute(field, from, to);
      case Level.Request:
        if (field === FIELD.request.http) this.walk(Level.Http, from, to);
        return;
      case Level.Http:
        return this.#visitHttp(field, from, to);
      case Level.Metadata:
        if (field === FIELD.metadata.filterMetadata || field === FIELD.metadata.typedFilterMetadata) this.#countContextEntry();
        return;
      case Level.HeaderMap:
        if (field === FIELD.headerMap.headers) this.#countHeader(to - from);
        return;
    }
  }

  #visitAttribute(field: number, from: number, to: number): void {
    switch (field) {
      case FIELD.attributes.request:
        return this.walk(Level.Request, from, to);
      case FIELD.attributes.contextExtensions:
        return this.#countContextEntry();
      case FIELD.attributes.metadataContext:
      case FIELD.attributes.routeMetadataContext:
        return this.walk(Level.Metadata, from, to);
    }
  }

  #visitHttp(field: number, from: number, to: number): void {
    switch (field) {
      case FIELD.http.headers:
        return this.#countHeader(to - from);
      case FIELD.http.headerMap:
        return this.walk(Level.HeaderMap, from, to);
      case FIELD.http.path:
        this.#pathBytes += to - from;
        if (this.#pathBytes > this.#limits.pathBytes) {
          throw tooLarge('attributes.request.http.path', `a path of ${this.#pathBytes} bytes`, this.#limits, 'pathBytes');
        }
        return;
      case FIELD.http.body:
      case FIELD.http.rawBody:
        this.#bodyBytes += to - from;
        return;
    }
  }

  /** Every field stepped over counts, but headers and context entries (limits of their own) and the fields inside them. */
  #count(level: Level, field: number): void {
    if (level === Level.Metadata || level === Level.HeaderMap) return;
    if (level === Level.Http && (field === FIELD.http.headers || field === FIELD.http.headerMap)) return;
    if (level === Level.Attributes && (field === FIELD.attributes.contextExtensions || field === FIELD.attributes.metadataContext || field === FIELD.attributes.routeMetadataContext)) return;
    this.#fields += 1;
    if (this.#fields > this.#limits.attributeFields) {
      throw tooLarge('attributes', `over ${this.#limits.attributeFields} fields besides headers and context entries`, this.#limits, 'attributeFields');
    }
  }

  #countContextEntry(): void {
    this.#contextEntries += 1;
    if (this.#contextEntries > this.#limits.contextEntries) {
      throw tooLarge('attributes.context_extensions', `over ${this.#limits.contextEntries} context entries`, this.#limits, 'contextEntries');
    }
  }

  #countHeader(entryBytes: number): void {
    this.#headers += 1;
    this.#headerBytes += entryBytes;
    const limits = this.#limits;
    if (this.#headers > limits.headers) throw tooLarge('attributes.request.http.headers', `over ${limits.headers} headers`, limits, 'headers');
    if (this.#headerBytes > limits.headerBytes) throw tooLarge('attributes.request.http.headers', `over ${limits.headerBytes} bytes of headers`, limits, 'headerBytes');
  }

  /** A base-128 varint of at most 32 significant bits (tags, lengths); throws RangeError past the end. */
  #varint(): number {
    const bytes = this.#bytes;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.#pos >= bytes.length) throw new RangeError('truncated varint');
      const byte = bytes[this.#pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError('varint too long');
  }

  #skip(wireType: number): void {
    switch (wireType) {
      case 0:
        for (let i = 0; i < 10; i += 1) if (this.#bytes[this.#pos++]! < 0x80) return;
        throw new RangeError('varint too long');
      case 1:
        this.#pos += 8;
        return;
      case 5:
        this.#pos += 4;
        return;
      default:
        throw new RangeError(`wire type ${wireType} is not skipped here`);
    }
  }
}

function tooLarge(attribute: string, what: string, limits: CheckRequestLimits, key: keyof CheckRequestLimits): InvalidRequestError {
  return new InvalidRequestError('request_too_large', attribute, `${what}: the limit is ${limits[key]} (grpc.limits.${key})`);
}
