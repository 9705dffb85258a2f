/**
 * Our trimmed protos must be wire-identical to Envoy's: every message we declare exists
 * upstream under the same name, and every field has the same number, type, cardinality
 * and oneof. Any drift fails here.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import type { Enum, Field, Namespace, Service, Type } from 'protobufjs';
import { loadTrimmedProtos } from '../../src/envoy/check-codec.js';
import { loadOfficialProtos } from '../helpers/official-protos.js';

const require = createRequire(import.meta.url);

const ours = loadTrimmedProtos();
const official = loadOfficialProtos();

function collect<T>(namespace: Namespace, kind: abstract new (...args: never[]) => T, out: T[] = []): T[] {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof kind) out.push(nested as T);
    if (nested instanceof protobuf.Namespace) collect(nested, kind, out);
  }
  return out;
}

/**
 * Fields we declare `bytes` where Envoy declares `string`: the same wire form (length-delimited
 * bytes), read as bytes on purpose. Nothing else may differ.
 */
const READ_AS_BYTES: ReadonlySet<string> = new Set(['.envoy.service.auth.v3.AttributeContext.HttpRequest.body']);

/** google.protobuf.* are protobufjs's bundled well-known types, the same on both sides. */
const isOurs = (fullName: string) => !fullName.startsWith('.google.protobuf.');
const ourTypes = collect(ours, protobuf.Type as never as abstract new () => Type).filter((t) => isOurs(t.fullName));
const ourEnums = collect(ours, protobuf.Enum as never as abstract new () => Enum).filter((e) => isOurs(e.fullName));

function signature(field: Field): Record<string, unknown> {
  field.resolve();
  return {
    id: field.id,
    type: field.resolvedType ? field.resolvedType.fullName : field.type,
    repeated: field.repeated,
    map: field.map,
    keyType: field instanceof protobuf.MapField ? field.keyType : undefined,
    oneof: field.partOf?.name,
  };
}

describe('the trimmed protos', () => {
  it('declare the messages the adapter needs', () => {
    const names = ourTypes.map((t) => t.fullName);
    for (const needed of [
      '.envoy.service.auth.v3.CheckRequest',
      '.envoy.service.auth.v3.CheckResponse',
      '.envoy.service.auth.v3.AttributeContext.HttpRequest',
      '.envoy.config.core.v3.HeaderMap',
      '.envoy.config.core.v3.Metadata',
      '.google.rpc.Status',
    ]) {
      expect(names).toContain(needed);
    }
  });

  it.each(ourTypes.map((t) => [t.fullName, t] as const))('declare %s exactly as Envoy does, field by field', (fullName, type) => {
    const upstream = official.lookupType(fullName);
    for (const field of type.fieldsArray) {
      const theirs = upstream.fields[field.name];
      expect(theirs, `${fullName}.${field.name} does not exist upstream`).toBeDefined();
      const upstreamSignature = signature(theirs as Field);
      if (READ_AS_BYTES.has(`${fullName}.${field.name}`) && upstreamSignature['type'] === 'string') upstreamSignature['type'] = 'bytes';
      expect(signature(field), `${fullName}.${field.name}`).toEqual(upstreamSignature);
    }
  });

  it.each(ourEnums.map((e) => [e.fullName, e] as const))('number every value of %s as Envoy does', (fullName, ourEnum) => {
    const upstream = official.lookupEnum(fullName);
    for (const [name, value] of Object.entries(ourEnum.values)) {
      expect(upstream.values[name], `${fullName}.${name}`).toBe(value);
    }
  });

  it('serve Check on the same path, with the same request and response types', () => {
    const path = (root: protobuf.Root) => {
      const service = root.lookup('envoy.service.auth.v3.Authorization') as Service;
      const check = service.methods['Check'];
      check?.resolve();
      return [check?.resolvedRequestType?.fullName, check?.resolvedResponseType?.fullName];
    };
    expect(path(ours)).toEqual(path(official));
  });

  it('would notice a drifted field number', () => {
    const drifted = new protobuf.Type('HeaderValue').add(new protobuf.Field('raw_value', 4, 'bytes'));
    const theirs = official.lookupType('envoy.config.core.v3.HeaderValue').fields['rawValue'] as Field;
    expect(signature(drifted.fields['raw_value'] as Field)).not.toEqual(signature(theirs));
  });
});

describe('the grpc.health.v1 proto', () => {
  const ourHealth = protobuf.loadSync(new URL('../../proto/grpc/health/v1/health.proto', import.meta.url).pathname);
  const grpcHealth = protobuf.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'));

  it.each(['grpc.health.v1.HealthCheckRequest', 'grpc.health.v1.HealthCheckResponse'])('declares %s as the gRPC project does', (name) => {
    const fields = (root: protobuf.Root) => root.lookupType(name).fieldsArray.map(signature);
    expect(fields(ourHealth)).toEqual(fields(grpcHealth));
  });

  it('numbers the serving statuses and serves Check and Watch as the gRPC project does', () => {
    const statuses = (root: protobuf.Root) => root.lookupEnum('grpc.health.v1.HealthCheckResponse.ServingStatus').values;
    expect(statuses(ourHealth)).toEqual(statuses(grpcHealth));
    const method = (root: protobuf.Root, name: string) => {
      const m = (root.lookup('grpc.health.v1.Health') as Service).methods[name]!;
      return [m.requestType, m.responseType, Boolean(m.responseStream)];
    };
    for (const name of ['Check', 'Watch']) expect(method(ourHealth, name)).toEqual(method(grpcHealth, name));
  });
});
