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
import protobuf from 'protobufjs';
import { InvalidRequestError } from './invalid-request-error.js';

export interface CheckRequestLimits {
  /** `headers` and `header_map` entries together. */
  readonly headers: number;
  /** Bytes of those entries (names, values and their framing). */
  readonly headerBytes: number;
  readonly pathBytes: number;
  /** The whole message less the request body Envoy may forward (`body`, `raw_body`). */
  readonly attributeBytes: number;
}

const LENGTH_DELIMITED = 2;
const FIELD = {
  checkRequest: { attributes: 1 },
  attributes: { request: 4 },
  request: { http: 2 },
  http: { headers: 3, path: 4, body: 11, rawBody: 12, headerMap: 13 },
  headerMap: { headers: 1 },
} as const;

interface Measure {
  headers: number;
  headerBytes: number;
  pathBytes: number;
  bodyBytes: number;
}

/** Throws InvalidRequestError (`request_too_large`) naming the attribute over its limit. */
export function checkRequestWithinLimits(bytes: Uint8Array, limits: CheckRequestLimits): void {
  const measure: Measure = { headers: 0, headerBytes: 0, pathBytes: 0, bodyBytes: 0 };
  try {
    walk(bytes, 0, bytes.length, (field, start, end) => {
      if (field === FIELD.checkRequest.attributes) measureAttributes(bytes, start, end, measure, limits);
    });
  } catch (error) {
    if (error instanceof InvalidRequestError) throw error;
    return; // not a well-formed message: the decoder says so, with its own answer
  }
  if (bytes.length - measure.bodyBytes > limits.attributeBytes) {
    throw tooLarge('attributes', `${bytes.length - measure.bodyBytes} bytes of attributes`, limits, 'attributeBytes');
  }
}

function measureAttributes(bytes: Uint8Array, start: number, end: number, measure: Measure, limits: CheckRequestLimits): void {
  walk(bytes, start, end, (field, from, to) => {
    if (field !== FIELD.attributes.request) return;
    walk(bytes, from, to, (requestField, httpStart, httpEnd) => {
      if (requestField === FIELD.request.http) measureHttp(bytes, httpStart, httpEnd, measure, limits);
    });
  });
}

function measureHttp(bytes: Uint8Array, start: number, end: number, measure: Measure, limits: CheckRequestLimits): void {
  walk(bytes, start, end, (field, from, to) => {
    switch (field) {
      case FIELD.http.headers:
        countHeader(measure, to - from, limits);
        break;
      case FIELD.http.headerMap:
        walk(bytes, from, to, (mapField, entryStart, entryEnd) => {
          if (mapField === FIELD.headerMap.headers) countHeader(measure, entryEnd - entryStart, limits);
        });
        break;
      case FIELD.http.path:
        measure.pathBytes += to - from;
        if (measure.pathBytes > limits.pathBytes) throw tooLarge('attributes.request.http.path', `a path of ${measure.pathBytes} bytes`, limits, 'pathBytes');
        break;
      case FIELD.http.body:
      case FIELD.http.rawBody:
        measure.bodyBytes += to - from;
        break;
    }
  });
}

function countHeader(measure: Measure, entryBytes: number, limits: CheckRequestLimits): void {
  measure.headers += 1;
  measure.headerBytes += entryBytes;
  if (measure.headers > limits.headers) throw tooLarge('attributes.request.http.headers', `over ${limits.headers} headers`, limits, 'headers');
  if (measure.headerBytes > limits.headerBytes) throw tooLarge('attributes.request.http.headers', `over ${limits.headerBytes} bytes of headers`, limits, 'headerBytes');
}

/** Calls `visit` for each length-delimited field in [start, end); other fields are skipped. */
function walk(bytes: Uint8Array, start: number, end: number, visit: (field: number, from: number, to: number) => void): void {
  const reader = protobuf.Reader.create(bytes.subarray(0, end));
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if ((tag & 7) !== LENGTH_DELIMITED) {
      reader.skipType(tag & 7);
      continue;
    }
    const length = reader.uint32();
    const from = reader.pos;
    if (from + length > end) throw new RangeError('truncated field');
    reader.pos = from + length;
    visit(tag >>> 3, from, from + length);
  }
}

function tooLarge(attribute: string, what: string, limits: CheckRequestLimits, key: keyof CheckRequestLimits): InvalidRequestError {
  return new InvalidRequestError('request_too_large', attribute, `${what}: the limit is ${limits[key]} (grpc.limits.${key})`);
}
