/**
 * CheckRequest → AccessRequest: the only place Envoy's request attributes are read.
 * Everything the layers above match on is canonicalized here, once; a request that cannot
 * be read throws InvalidRequestError naming the attribute (answered 400). A Check without
 * `request.http` is a TCP connection, as Envoy's network ext_authz filter sends it.
 */
import { isIP } from 'node:net';
import {
  CanonicalizationError,
  canonicalizeHost,
  canonicalizePath,
  connectionRequest,
  queryOf,
  type AccessRequest,
  type Peer,
} from '../domain/index.js';
import { InvalidRequestError } from './invalid-request-error.js';
import { readHeaders } from './request-headers.js';
import { structToJson } from './struct-json.js';
import type { AttributeContextMessage, CheckRequestMessage, HttpRequestMessage, MetadataMessage, PeerMessage } from './wire-messages.js';

export interface AccessRequestOptions {
  /** See CanonicalPathOptions.decodeEncodedSlashes: off (reject `%2F`/`%5C`) unless the upstream decodes them too. */
  readonly decodeEncodedSlashes?: boolean;
}

const NO_ENTRIES: ReadonlyMap<string, string> = new Map();
const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

export function toAccessRequest(check: CheckRequestMessage, options: AccessRequestOptions = {}): AccessRequest {
  const attributes = check.attributes;
  const http = attributes?.request?.http;
  if (!attributes || !http) return toConnection(attributes ?? NO_ATTRIBUTES);
  const headers = readHeaders(http);
  const rawPath = required(http.path || headers.get(':path'), 'attributes.request.http.path');
  return {
    kind: 'http',
    requestId: headers.get('x-request-id') || http.id || '',
    method: required(http.method || headers.get(':method'), 'attributes.request.http.method').toUpperCase(),
    path: pathOf(rawPath, options),
    rawPath,
    query: rawPath.includes('?') ? queryOf(rawPath) : (http.query ?? ''),
    host: hostOf(http, headers),
    scheme: (http.scheme || headers.get(':scheme') || '').toLowerCase(),
    protocol: http.protocol ?? '',
    headers,
    source: toPeer(attributes.source),
    destination: toPeer(attributes.destination),
    contextExtensions: toMap(attributes.contextExtensions),
    sni: sniOf(attributes.tlsSession?.sni),
    filterMetadata: toFilterMetadata(attributes.metadataContext),
    body: bodyOf(http),
  };
}

const NO_ATTRIBUTES: AttributeContextMessage = Object.freeze({});

/**
 * A TCP connection: its peers (addresses, principals from the TLS handshake, the peer
 * certificate under `include_peer_certificate`) and its SNI (`include_tls_session`). Both
 * addresses are required: Envoy always sends them, and ipBlocks are never decided on an
 * address that was not seen.
 */
function toConnection(attributes: AttributeContextMessage): AccessRequest {
  requireAddress(attributes.source, 'attributes.source.address');
  requireAddress(attributes.destination, 'attributes.destination.address');
  return connectionRequest({
    source: toPeer(attributes.source),
    destination: toPeer(attributes.destination),
    contextExtensions: toMap(attributes.contextExtensions),
    sni: sniOf(attributes.tlsSession?.sni),
    filterMetadata: toFilterMetadata(attributes.metadataContext),
  });
}

/** An IP socket address, or a unix socket's path: anything else is no address a connection can have. */
function requireAddress(peer: PeerMessage | null | undefined, attribute: string): void {
  const address = peer?.address;
  const ip = address?.socketAddress?.address;
  if (ip ? isIP(ip) !== 0 : address?.pipe?.path) return;
  const why = ip ? `${JSON.stringify(ip.slice(0, 64))} is not an IP address` : 'absent';
  throw new InvalidRequestError('missing_connection_attributes', attribute, `${attribute} is ${why}: not a connection Envoy describes`);
}

/** A DNS name (RFC 6066): longer names, ports, IP literals and other characters are refused. */
const MAX_SNI_LENGTH = 253;

/** Canonical like a host (lower case, no trailing dot), so `connection.sni` compares as DNS does. */
function sniOf(sni: string | null | undefined): string {
  if (!sni) return '';
  const attribute = 'attributes.tls_session.sni';
  if (sni.length > MAX_SNI_LENGTH + 1) throw new InvalidRequestError('invalid_sni', attribute, `longer than ${MAX_SNI_LENGTH} characters`);
  if (sni.includes(':') || sni.includes('[') || sni.includes('..')) throw new InvalidRequestError('invalid_sni', attribute, 'not a DNS name');
  try {
    return canonicalizeHost(sni);
  } catch (error) {
    if (!(error instanceof CanonicalizationError)) throw error;
    throw new InvalidRequestError('invalid_sni', attribute, error.message);
  }
}

/**
 * `raw_body` under Envoy's `pack_as_bytes`, else `body`: Envoy sets one. Kept as the decoder's
 * view of the message, never copied: policy/ reads it only when a policy names a body field.
 */
function bodyOf(http: HttpRequestMessage): Uint8Array | undefined {
  if (http.rawBody && http.rawBody.length > 0) return http.rawBody;
  return http.body && http.body.length > 0 ? http.body : undefined;
}

function required(value: string | null | undefined, attribute: string): string {
  if (!value) throw new InvalidRequestError('missing_http_attributes', attribute, `${attribute} is empty`);
  return value;
}

function pathOf(rawPath: string, options: AccessRequestOptions): string {
  try {
    return canonicalizePath(rawPath, options);
  } catch (error) {
    if (!(error instanceof CanonicalizationError)) throw error;
    throw new InvalidRequestError('invalid_path', 'attributes.request.http.path', `${error.code}: ${error.message}`);
  }
}

/** Envoy's `host` is the `:authority`; the headers are the fallback for older senders. */
function hostOf(http: HttpRequestMessage, headers: ReadonlyMap<string, string>): string {
  const authority = http.host || headers.get(':authority') || headers.get('host') || '';
  try {
    return canonicalizeHost(authority);
  } catch (error) {
    if (!(error instanceof CanonicalizationError)) throw error;
    throw new InvalidRequestError('invalid_header', 'attributes.request.http.host', error.message);
  }
}

/** Absent attributes stay absent (not present-and-undefined), so equality and logs stay clean. */
function toPeer(peer: PeerMessage | null | undefined): Peer {
  const out: { -readonly [K in keyof Peer]: Peer[K] } = {};
  if (!peer) return out;
  const socket = peer.address?.socketAddress;
  if (socket?.address) out.address = socket.address;
  if (socket?.portValue) out.port = socket.portValue;
  if (peer.principal) out.principal = peer.principal;
  if (peer.certificate) out.certificate = peer.certificate;
  return out;
}

function toMap(entries: Readonly<Record<string, string>> | null | undefined): ReadonlyMap<string, string> {
  if (!entries) return NO_ENTRIES;
  const keys = Object.keys(entries);
  if (keys.length === 0) return NO_ENTRIES;
  const out = new Map<string, string>();
  for (const key of keys) out.set(key, entries[key] ?? '');
  return out;
}

function toFilterMetadata(metadata: MetadataMessage | null | undefined): Readonly<Record<string, unknown>> {
  const filters = metadata?.filterMetadata;
  if (!filters) return NO_METADATA;
  const keys = Object.keys(filters);
  if (keys.length === 0) return NO_METADATA;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    Object.defineProperty(out, key, { value: structToJson(filters[key]), enumerable: true, writable: true });
  }
  return out;
}
