/**
 * google.protobuf.Struct ⇄ plain JSON. Envoy hands us filter metadata as Structs (e.g.
 * jwt_authn's verified claims) and reads our dynamic metadata as one; the layers above
 * see only JSON.
 */
import type { StructMessage, ValueMessage } from './wire-messages.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function structToJson(struct: StructMessage | null | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  const fields = struct?.fields;
  if (!fields) return out;
  for (const key of Object.keys(fields)) {
    setOwn(out, key, valueToJson(fields[key]));
  }
  return out;
}

function valueToJson(value: ValueMessage | undefined): JsonValue {
  if (value == null) return null;
  // A decoded message reads unset oneof members from its prototype ('' , 0, false), so
  // only own properties tell which member was sent.
  if (isSet(value, 'structValue')) return structToJson(value.structValue);
  if (isSet(value, 'listValue')) return (value.listValue?.values ?? []).map(valueToJson);
  if (isSet(value, 'stringValue')) return value.stringValue ?? '';
  if (isSet(value, 'numberValue')) return value.numberValue ?? 0;
  if (isSet(value, 'boolValue')) return value.boolValue ?? false;
  return null;
}

function isSet(value: ValueMessage, member: keyof ValueMessage): boolean {
  return Object.hasOwn(value, member) && value[member] != null;
}

/** A key named `__proto__` must become an own property, not the object's prototype. */
function setOwn(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Flat scalars only: all our dynamic metadata needs, and cheap to build per answer. */
export type FlatJson = Readonly<Record<string, string | number | boolean | undefined>>;

export function flatJsonToStruct(json: FlatJson): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const key of Object.keys(json)) {
    const value = json[key];
    if (typeof value === 'string') fields[key] = { stringValue: value };
    else if (typeof value === 'number') fields[key] = { numberValue: value };
    else if (typeof value === 'boolean') fields[key] = { boolValue: value };
  }
  return { fields };
}
