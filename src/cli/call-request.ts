/**
 * An AccessRequest back into the CheckRequest Envoy would send for it, in the JSON form of
 * proto/ that @grpc/proto-loader encodes: so `meshwarden call` sends exactly what `explain`
 * evaluates, whichever form the request file has. The server's adapter reads it back into the
 * same AccessRequest (test/cli/call-request.test.ts holds the round trip to that).
 */
import type { AccessRequest, Peer } from '../domain/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function checkRequestOf(request: AccessRequest): Record<string, unknown> {
  const attributes: Record<string, unknown> = {
    source: peerOf(request.source),
    destination: peerOf(request.destination),
    contextExtensions: Object.fromEntries(request.contextExtensions),
  };
  if (request.kind === 'http') attributes['request'] = { http: httpOf(request) };
  if (request.sni !== '') attributes['tlsSession'] = { sni: request.sni };
  const filters = Object.entries(request.filterMetadata);
  if (filters.length > 0) {
    attributes['metadataContext'] = { filterMetadata: Object.fromEntries(filters.map(([name, json]) => [name, structOf(json as Json)])) };
  }
  return { attributes };
}

function httpOf(request: AccessRequest): Record<string, unknown> {
  return {
    id: request.requestId,
    method: request.method,
    path: request.rawPath,
    // the authority as the client wrote it (with its port), as Envoy sends it; the server canonicalizes
    host: request.headers.get(':authority') ?? request.host,
    scheme: request.scheme,
    protocol: request.protocol,
    headers: Object.fromEntries(request.headers),
    ...(request.body === undefined ? {} : { rawBody: Buffer.from(request.body) }),
  };
}

function peerOf(peer: Peer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (peer.address !== undefined) out['address'] = { socketAddress: { address: peer.address, portValue: peer.port ?? 0 } };
  if (peer.principal !== undefined) out['principal'] = peer.principal;
  if (peer.certificate !== undefined) out['certificate'] = peer.certificate;
  return out;
}

/** Plain JSON → google.protobuf.Struct (filter metadata, e.g. jwt_authn's verified claims). */
function structOf(json: Json): Record<string, unknown> {
  const object = json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {};
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, valueOf(value)])) };
}

function valueOf(json: Json): Record<string, unknown> {
  if (json === null) return { nullValue: 'NULL_VALUE' };
  if (Array.isArray(json)) return { listValue: { values: json.map(valueOf) } };
  switch (typeof json) {
    case 'object':
      return { structValue: structOf(json) };
    case 'number':
      return { numberValue: json };
    case 'boolean':
      return { boolValue: json };
    default:
      return { stringValue: json };
  }
}
