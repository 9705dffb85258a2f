/**
 * Envoy's OFFICIAL ext_authz protos, as shipped in @grpc/grpc-js-xds (envoy-api, xds,
 * googleapis, protoc-gen-validate), loaded with protobufjs. Tests use them as the reference
 * Envoy itself is built from: to encode requests as Envoy would, decode our answers as
 * Envoy would, and compare our trimmed protos field by field.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import type { Root, Type } from 'protobufjs';

const require = createRequire(import.meta.url);
const XDS_DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

/** protobufjs ships `google/protobuf/descriptor.proto`, which the annotation protos import. */
const PROTOBUFJS_DIR = path.dirname(require.resolve('protobufjs/package.json'));

export const OFFICIAL_INCLUDE_DIRS: readonly string[] = [
  ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(XDS_DEPS, dir)),
  PROTOBUFJS_DIR,
];

let cached: Root | undefined;

/** The official `envoy.service.auth.v3` and everything it imports, loaded once per process. */
export function loadOfficialProtos(): Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target;
    return OFFICIAL_INCLUDE_DIRS.map((dir) => path.join(dir, target)).find((file) => existsSync(file)) ?? target;
  };
  root.loadSync('envoy/service/auth/v3/external_auth.proto');
  root.resolveAll();
  cached = root;
  return root;
}

export function officialType(name: string): Type {
  return loadOfficialProtos().lookupType(name);
}

/** Encodes a message given in protobufjs's camelCase JSON form, as Envoy would send it. */
export function encodeOfficial(typeName: string, message: Record<string, unknown>): Buffer {
  const type = officialType(typeName);
  const bytes = type.encode(type.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes bytes as Envoy would, into plain JSON (enums as names, longs as strings, bytes base64). */
export function decodeOfficial(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = officialType(typeName);
  return type.toObject(type.decode(bytes), { enums: String, longs: String, bytes: String, defaults: false, oneofs: true });
}
