/**
 * Strict decoding of Envoy YAML against Envoy's own v3 protos (the api tree vendored by
 * @grpc/grpc-js-xds). protobufjs' `fromObject` drops unknown keys silently, so this walker
 * checks every key of every object against its message, the way Envoy's own JSON parser
 * rejects a config with an unknown field, and also applies the protoc-gen-validate rules
 * that Envoy enforces at load (required fields, oneofs, lengths, bounds).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DEPS = path.join(REPO, 'node_modules/@grpc/grpc-js-xds/deps');
const INCLUDE_DIRS = [
  path.join(DEPS, 'envoy-api'),
  path.join(DEPS, 'xds'),
  path.join(DEPS, 'googleapis'),
  path.join(DEPS, 'protoc-gen-validate'),
  // descriptor.proto, which the annotation protos import.
  path.join(REPO, 'node_modules/protobufjs'),
];

/** Every extension our Envoy files name in an `@type`; Any resolution needs them loaded. */
const PROTO_FILES = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/network/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/health_check/v3/health_check.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
];

const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

type Json = unknown;
type Rules = Record<string, any>;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fullName(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\./, '');
}

/** Duration in ProtoJSON form ("0.25s"), as seconds. */
function parseDuration(value: Json): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(value);
  return m ? Number(`${m[1]}.${m[2] ?? '0'}`) : undefined;
}

function durationRuleSeconds(rule: Json): number {
  if (!isObject(rule)) return 0;
  return Number(rule['seconds'] ?? 0) + Number(rule['nanos'] ?? 0) / 1e9;
}

/** The `(validate.rules)` option of a field, or undefined. */
function rulesOf(field: protobuf.Field): Rules | undefined {
  for (const opt of field.parsedOptions ?? []) {
    if (opt['(validate.rules)'] !== undefined) return opt['(validate.rules)'] as Rules;
  }
  return undefined;
}

export class EnvoySchema {
  readonly root: protobuf.Root;
  readonly #fieldIndex = new Map<protobuf.Type, Map<string, protobuf.Field>>();

  private constructor(root: protobuf.Root) {
    this.root = root;
  }

  static load(): EnvoySchema {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => {
      for (const dir of INCLUDE_DIRS) {
        const candidate = path.join(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return target;
    };
    root.loadSync(PROTO_FILES, { keepCase: true });
    root.resolveAll();
    return new EnvoySchema(root);
  }

  /** Problems found decoding `doc` as `typeName` (default: an Envoy bootstrap). */
  check(doc: Json, typeName = 'envoy.config.bootstrap.v3.Bootstrap'): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    this.#message(this.root.lookupType(typeName), doc, '', problems);
    return problems;
  }

  #fields(type: protobuf.Type): Map<string, protobuf.Field> {
    let index = this.#fieldIndex.get(type);
    if (!index) {
      index = new Map();
      for (const field of type.fieldsArray) {
        index.set(field.name, field);
        index.set(field.jsonName, field);
      }
      this.#fieldIndex.set(type, index);
    }
    return index;
  }

  #message(type: protobuf.Type, value: Json, at: string, out: SchemaProblem[]): void {
    const name = fullName(type);
    if (this.#wellKnown(name, value, at, out)) return;
    if (!isObject(value)) {
      out.push({ path: at, message: `expected an object for ${name}` });
      return;
    }
    const fields = this.#fields(type);
    const present = new Set<protobuf.Field>();
    for (const [key, child] of Object.entries(value)) {
      const field = fields.get(key);
      const where = at ? `${at}.${key}` : key;
      if (!field) {
        out.push({ path: where, message: `unknown field "${key}" in ${name}` });
        continue;
      }
      if (present.has(field)) {
        out.push({ path: where, message: `field ${field.name} given twice (snake and camel case)` });
      }
      present.add(field);
      if (field.options?.['deprecated'] === true) {
        out.push({ path: where, message: `${name}.${field.name} is deprecated` });
      }
      this.#field(field, child, where, out);
    }
    this.#presence(type, present, at, out);
  }

  /** Oneofs hold at most one member (exactly one where PGV says required); required fields. */
  #presence(type: protobuf.Type, present: Set<protobuf.Field>, at: string, out: SchemaProblem[]): void {
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => present.has(f));
      if (set.length > 1) {
        out.push({ path: at, message: `oneof ${oneof.name} has several members: ${set.map((f) => f.name).join(', ')}` });
      }
      if (set.length === 0 && oneof.options?.['(validate.required)'] === true) {
        out.push({ path: at, message: `oneof ${oneof.name} of ${fullName(type)} requires one of: ${oneof.oneof.join(', ')}` });
      }
    }
    for (const field of type.fieldsArray) {
      const rules = rulesOf(field);
      // PGV applies a oneof member's rules only when that member is the one chosen.
      if (!rules || present.has(field) || field.partOf) continue;
      const required = ['message', 'duration', 'any', 'timestamp'].some((k) => rules[k]?.required === true);
      if (required) out.push({ path: at, message: `${fullName(type)}.${field.name} is required` });
    }
  }

  #field(field: protobuf.Field, value: Json, at: string, out: SchemaProblem[]): void {
    if (value === null) {
      out.push({ path: at, message: `null for ${field.name}: leave the key out instead` });
      return;
    }
    const rules = rulesOf(field);
    if (field instanceof protobuf.MapField) {
      if (!isObject(value)) {
        out.push({ path: at, message: `expected a map for ${field.name}` });
        return;
      }
      if (rules?.['map']?.min_pairs && Object.keys(value).length < Number(rules['map'].min_pairs)) {
        out.push({ path: at, message: `${field.name} needs at least ${rules['map'].min_pairs} entries` });
      }
      for (const [k, v] of Object.entries(value)) this.#single(field, v, `${at}[${k}]`, undefined, out);
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        out.push({ path: at, message: `expected a list for ${field.name}` });
        return;
      }
      const repeated = rules?.['repeated'] as Rules | undefined;
      if (repeated?.['min_items'] !== undefined && value.length < Number(repeated['min_items'])) {
        out.push({ path: at, message: `${field.name} needs at least ${repeated['min_items']} items` });
      }
      value.forEach((item, i) => this.#single(field, item, `${at}[${i}]`, repeated?.['items'] as Rules | undefined, out));
      return;
    }
    this.#single(field, value, at, rules, out);
  }

  #single(field: protobuf.Field, value: Json, at: string, rules: Rules | undefined, out: SchemaProblem[]): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      this.#message(resolved, value, at, out);
      if (rules?.['duration']) this.#durationRules(rules['duration'] as Rules, value, at, out);
      if (rules?.['any']?.in && isObject(value) && !(rules['any'].in as string[]).includes(String(value['@type']))) {
        out.push({ path: at, message: `@type must be one of ${(rules['any'].in as string[]).join(', ')}` });
      }
      return;
    }
    if (resolved instanceof protobuf.Enum) {
      this.#enum(resolved, value, at, out);
      return;
    }
    this.#scalar(field.type, value, at, out);
    if (rules) this.#scalarRules(field.type, rules, value, at, out);
  }

  #enum(type: protobuf.Enum, value: Json, at: string, out: SchemaProblem[]): void {
    const known = typeof value === 'string' ? value in type.values : Object.values(type.values).includes(value as number);
    if (!known) out.push({ path: at, message: `${JSON.stringify(value)} is not a value of ${fullName(type)}` });
  }

  #scalar(kind: string, value: Json, at: string, out: SchemaProblem[]): void {
    const fail = (what: string): void => {
      out.push({ path: at, message: `expected ${what}, got ${JSON.stringify(value)}` });
    };
    switch (kind) {
      case 'string':
        if (typeof value !== 'string') fail('a string');
        return;
      case 'bool':
        if (typeof value !== 'boolean') fail('a boolean');
        return;
      case 'bytes':
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) fail('base64 bytes');
        return;
      case 'double':
      case 'float':
        if (typeof value !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(String(value))) fail('a number');
        return;
      default: {
        // Integer kinds: a JSON number or a decimal string (ProtoJSON allows both).
        const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isInteger(n)) fail(`an integer (${kind})`);
        else if (kind.startsWith('uint') || kind.startsWith('fixed')) {
          if (n < 0) fail(`a non-negative integer (${kind})`);
        }
      }
    }
  }

  #scalarRules(kind: string, rules: Rules, value: Json, at: string, out: SchemaProblem[]): void {
    if (rules['string'] && typeof value === 'string') {
      const r = rules['string'] as Rules;
      if (r['min_len'] !== undefined && value.length < Number(r['min_len'])) {
        out.push({ path: at, message: `string shorter than ${r['min_len']}` });
      }
      if (r['min_bytes'] !== undefined && Buffer.byteLength(value) < Number(r['min_bytes'])) {
        out.push({ path: at, message: `string shorter than ${r['min_bytes']} bytes` });
      }
    }
    const numeric = rules[kind] as Rules | undefined;
    if (numeric && typeof value === 'number') this.#bounds(numeric, value, at, out);
  }

  #bounds(r: Rules, n: number, at: string, out: SchemaProblem[], show: Json = n): void {
    const bad =
      (r['gt'] !== undefined && !(n > Number(r['gt']))) ||
      (r['gte'] !== undefined && !(n >= Number(r['gte']))) ||
      (r['lt'] !== undefined && !(n < Number(r['lt']))) ||
      (r['lte'] !== undefined && !(n <= Number(r['lte'])));
    if (bad) out.push({ path: at, message: `${JSON.stringify(show)} is out of bounds ${JSON.stringify(r)}` });
  }

  #durationRules(r: Rules, value: Json, at: string, out: SchemaProblem[]): void {
    const seconds = parseDuration(value);
    if (seconds === undefined) return;
    const bounds: Rules = {};
    for (const k of ['gt', 'gte', 'lt', 'lte']) {
      if (r[k] !== undefined) bounds[k] = durationRuleSeconds(r[k]);
    }
    this.#bounds(bounds, seconds, at, out, value);
  }

  /** ProtoJSON's special forms. Returns true when `name` is a well-known type (checked here). */
  #wellKnown(name: string, value: Json, at: string, out: SchemaProblem[]): boolean {
    const wrapped = WRAPPERS[name];
    if (wrapped) {
      this.#scalar(wrapped, value, at, out);
      return true;
    }
    switch (name) {
      case 'google.protobuf.Duration':
        if (parseDuration(value) === undefined) out.push({ path: at, message: `expected a duration like "0.25s", got ${JSON.stringify(value)}` });
        return true;
      case 'google.protobuf.Timestamp':
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) out.push({ path: at, message: 'expected an RFC 3339 timestamp' });
        return true;
      case 'google.protobuf.Struct':
        if (!isObject(value)) out.push({ path: at, message: 'expected an object (Struct)' });
        return true;
      case 'google.protobuf.ListValue':
        if (!Array.isArray(value)) out.push({ path: at, message: 'expected a list (ListValue)' });
        return true;
      case 'google.protobuf.Value':
        return true;
      case 'google.protobuf.FieldMask':
        if (typeof value !== 'string') out.push({ path: at, message: 'expected a field mask string' });
        return true;
      case 'google.protobuf.Empty':
        if (!isObject(value) || Object.keys(value).length > 0) out.push({ path: at, message: 'expected {} (Empty)' });
        return true;
      case 'google.protobuf.Any':
        this.#any(value, at, out);
        return true;
      default:
        return false;
    }
  }

  /** An Any names its message by `@type`; the rest of the object is that message. */
  #any(value: Json, at: string, out: SchemaProblem[]): void {
    if (!isObject(value) || typeof value['@type'] !== 'string') {
      out.push({ path: at, message: 'an Any needs "@type"' });
      return;
    }
    const url = value['@type'];
    const typeName = url.slice(url.lastIndexOf('/') + 1);
    const type = this.root.lookup(typeName);
    if (!(type instanceof protobuf.Type)) {
      out.push({ path: `${at}.@type`, message: `type ${url} is not a loaded Envoy message` });
      return;
    }
    const { ['@type']: _ignored, ...rest } = value;
    const wkt = typeName.startsWith('google.protobuf.');
    this.#message(type, wkt ? rest['value'] : rest, at, out);
  }
}
