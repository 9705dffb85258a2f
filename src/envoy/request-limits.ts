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
  /** `context_extensions` entries and `metadata_context` / `route_metadata_context` filter entries together. */
  readonly contextEntries: number;
  /** Every other field at the levels walked (CheckRequest, AttributeContext, Request, HttpRequest), unknown and repeated ones included. */
  readonly attributeFields: number;
}

const LENGTH_DELIMITED = 2;
const FIELD = {
  checkRequest: { attributes: 1 },
  attributes: { request: 4, contextExtensions: 10, metadataContext: 11, routeMetadataContext: 13 },
  metadata: { filterMetadata: 1, typedFilterMetadata: 2 },
  request: { http: 2 },
  http: { headers: 3, path: 4, body: 11, rawBody: 12, headerMap: 13 },
  headerMap: { headers: 1 },
} as const;

interface Measure {
  fields: number;
  contextEntries: number;
  headers: number;
  headerBytes: number;
  pathBytes: number;
  bodyBytes: number;
}

/** Throws InvalidRequestError (`request_too_large`) naming the attribute over its limit. */
export function checkRequestWithinLimits(bytes: Uint8Array, limits: CheckRequestLimits): void {
  const measure: Measure = { fields: 0, contextEntries: 0, headers: 0, headerBytes: 0, pathBytes: 0, bodyBytes: 0 };
  try {
    walk(bytes, 0, bytes.length, countingFields(measure, limits), (field, start, end) => {
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
  const { contextExtensions, metadataContext, routeMetadataContext } = FIELD.attributes;
  walk(bytes, start, end, countingFields(measure, limits, contextExtensions, metadataContext, routeMetadataContext), (field, from, to) => {
    switch (field) {
      case FIELD.attributes.request:
        walk(bytes, from, to, countingFields(measure, limits), (requestField, httpStart, httpEnd) => {
          if (requestField === FIELD.request.http) measureHttp(bytes, httpStart, httpEnd, measure, limits);
        });
        break;
      case FIELD.attributes.contextExtensions:
        countContextEntry(measure, limits);
        break;
      case FIELD.attributes.metadataContext:
      case FIELD.attributes.routeMetadataContext:
        walk(bytes, from, to, NOT_COUNTED, (metadataField) => {
          if (metadataField === FIELD.metadata.filterMetadata || metadataField === FIELD.metadata.typedFilterMetadata) countContextEntry(measure, limits);
        });
        break;
    }
  });
}

function measureHttp(bytes: Uint8Array, start: number, end: number, measure: Measure, limits: CheckRequestLimits): void {
  walk(bytes, start, end, countingFields(measure, limits, FIELD.http.headers, FIELD.http.headerMap), (field, from, to) => {
    switch (field) {
      case FIELD.http.headers:
        countHeader(measure, to - from, limits);
        break;
      case FIELD.http.headerMap:
        walk(bytes, from, to, NOT_COUNTED, (mapField, entryStart, entryEnd) => {
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

/** Counts every field a walk steps over but the `exempt` ones (headers, context entries: they have limits of their own). */
function countingFields(measure: Measure, limits: CheckRequestLimits, ...exempt: number[]): (field: number) => void {
  return (field) => {
    if (exempt.includes(field)) return;
    measure.fields += 1;
    if (measure.fields > limits.attributeFields) {
      throw tooLarge('attributes', `over ${limits.attributeFields} fields besides headers and context entries`, limits, 'attributeFields');
    }
  };
}

const NOT_COUNTED = (): void => {};

function countContextEntry(measure: Measure, limits: CheckRequestLimits): void {
  measure.contextEntries += 1;
  if (measure.contextEntries > limits.contextEntries) {
    throw tooLarge('attributes.context_extensions', `over ${limits.contextEntries} context entries`, limits, 'contextEntries');
  }
}

function countHeader(measure: Measure, entryBytes: number, limits: CheckRequestLimits): void {
  measure.headers += 1;
  measure.headerBytes += entryBytes;
  if (measure.headers > limits.headers) throw tooLarge('attributes.request.http.headers', `over ${limits.headers} headers`, limits, 'headers');
  if (measure.headerBytes > limits.headerBytes) throw tooLarge('attributes.request.http.headers', `over ${limits.headerBytes} bytes of headers`, limits, 'headerBytes');
}

/**
 * Calls `step` for every field in [start, end) and `visit` for each length-delimited one;
 * the others are skipped.
 */
function walk(
  bytes: Uint8Array,
  start: number,
  end: number,
  step: (field: number) => void,
  visit: (field: number, from: number, to: number) => void,
): void {
  const reader = protobuf.Reader.create(bytes.subarray(0, end));
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.uint32();
    step(tag >>> 3);
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
