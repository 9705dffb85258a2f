/**
 * TypeScript shapes of our trimmed ext_authz messages (proto/), in protobufjs's camelCase.
 * Every field is optional and nullable: a decoded message reads unset fields from its
 * prototype (null, '' or an empty map), and tests build plain objects. Only envoy/ and the
 * gRPC service definition use these types.
 */

export interface HeaderValueMessage {
  key?: string | null;
  value?: string | null;
  /** Set instead of `value` when Envoy's `encode_raw_headers` is on. */
  rawValue?: Uint8Array | null;
}

export interface HeaderMapMessage {
  headers?: readonly HeaderValueMessage[] | null;
}

export interface SocketAddressMessage {
  address?: string | null;
  portValue?: number | null;
  namedPort?: string | null;
}

export interface PipeMessage {
  path?: string | null;
  mode?: number | null;
}

export interface AddressMessage {
  socketAddress?: SocketAddressMessage | null;
  pipe?: PipeMessage | null;
}

export interface PeerMessage {
  address?: AddressMessage | null;
  principal?: string | null;
  certificate?: string | null;
}

export interface HttpRequestMessage {
  id?: string | null;
  method?: string | null;
  headers?: Readonly<Record<string, string>> | null;
  headerMap?: HeaderMapMessage | null;
  path?: string | null;
  host?: string | null;
  scheme?: string | null;
  query?: string | null;
  fragment?: string | null;
  protocol?: string | null;
  /** Envoy's `body` (a proto string), read as its bytes; see attribute_context.proto. */
  body?: Uint8Array | null;
  rawBody?: Uint8Array | null;
}

export interface ListValueMessage {
  values?: readonly ValueMessage[] | null;
}

/** google.protobuf.Value: exactly one member is set. */
export interface ValueMessage {
  nullValue?: number | null;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: StructMessage | null;
  listValue?: ListValueMessage | null;
}

export interface StructMessage {
  fields?: Readonly<Record<string, ValueMessage>> | null;
}

export interface MetadataMessage {
  filterMetadata?: Readonly<Record<string, StructMessage>> | null;
}

export interface AttributeContextMessage {
  source?: PeerMessage | null;
  destination?: PeerMessage | null;
  request?: { http?: HttpRequestMessage | null } | null;
  contextExtensions?: Readonly<Record<string, string>> | null;
  metadataContext?: MetadataMessage | null;
  routeMetadataContext?: MetadataMessage | null;
  tlsSession?: { sni?: string | null } | null;
}

export interface CheckRequestMessage {
  attributes?: AttributeContextMessage | null;
}

/** envoy.config.core.v3.HeaderValueOption.HeaderAppendAction */
export const OVERWRITE_IF_EXISTS_OR_ADD = 2;

export interface HeaderValueOptionMessage {
  header: { key: string; value: string };
  append?: { value: boolean };
  appendAction?: number;
}

export interface DeniedHttpResponseMessage {
  status: { code: number };
  headers: readonly HeaderValueOptionMessage[];
  body: string;
}

export interface OkHttpResponseMessage {
  headers: readonly HeaderValueOptionMessage[];
  headersToRemove: readonly string[];
}

export interface CheckResponseMessage {
  status: { code: number; message?: string };
  deniedResponse?: DeniedHttpResponseMessage;
  okResponse?: OkHttpResponseMessage;
  dynamicMetadata?: StructMessage;
}
