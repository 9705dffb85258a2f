/**
 * The `when` keys meshwarden understands, parsed once into a closed union. Istio keys we
 * cannot evaluate (e.g. `experimental.envoy.filters.*`) are refused at compile time
 * rather than silently never matching.
 */
import { MAX_BODY_DEPTH } from '../body/read-body.js';
import { PatternError } from '../compile-error.js';

export type ConditionKey =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'claim'; readonly path: readonly string[] }
  /** A field of the JSON request body: its member names, outermost first. */
  | { readonly kind: 'body'; readonly path: readonly string[] }
  | {
      readonly kind:
        | 'source.ip'
        | 'remote.ip'
        | 'source.namespace'
        | 'source.principal'
        | 'request.auth.principal'
        | 'request.auth.audiences'
        | 'request.auth.presenter'
        | 'destination.ip'
        | 'destination.port'
        | 'connection.sni';
    };

const SIMPLE_KEYS = new Set([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
] as const);

const HEADERS = 'request.headers';
const CLAIMS = 'request.auth.claims';
const BODY = 'request.body.json';

export function parseConditionKey(key: string): ConditionKey {
  if ((SIMPLE_KEYS as ReadonlySet<string>).has(key)) {
    return Object.freeze({ kind: key as Exclude<ConditionKey['kind'], 'header' | 'claim' | 'body'> });
  }
  if (key.startsWith(BODY)) {
    return Object.freeze({ kind: 'body', path: parseBrackets(key, BODY.length, MAX_BODY_DEPTH) });
  }
  if (key.startsWith(HEADERS)) {
    const [name] = parseBrackets(key, HEADERS.length, 1);
    return Object.freeze({ kind: 'header', name: name!.toLowerCase() });
  }
  if (key.startsWith(CLAIMS)) {
    return Object.freeze({ kind: 'claim', path: parseBrackets(key, CLAIMS.length, Infinity) });
  }
  throw new PatternError('ERR_COMPILE_CONDITION_KEY', `unsupported condition key "${key}"`);
}

/** `[a][b]` from `start`: at least one, at most `max`, none empty, nothing after. */
function parseBrackets(key: string, start: number, max: number): readonly string[] {
  const names: string[] = [];
  let at = start;
  while (at < key.length) {
    const close = key.indexOf(']', at);
    if (key[at] !== '[' || close === -1 || close === at + 1) break;
    const name = key.slice(at + 1, close);
    if (name.includes('[')) break;
    names.push(name);
    at = close + 1;
  }
  if (at !== key.length || names.length === 0) {
    throw new PatternError('ERR_COMPILE_CONDITION_KEY', `malformed condition key "${key}"`);
  }
  if (names.length > max) {
    throw new PatternError('ERR_COMPILE_CONDITION_KEY', `condition key "${key}" names ${names.length} levels, at most ${max}`);
  }
  return Object.freeze(names);
}

/**
 * The values of a claim as strings: a string is itself, a number or boolean its text, an
 * array each such element (Istio: a list claim matches when any element does); anything
 * else (objects, null) is absent.
 */
export function claimValues(claims: Readonly<Record<string, unknown>>, path: readonly string[]): readonly string[] | undefined {
  let value: unknown = claims;
  for (const name of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  if (Array.isArray(value)) return value.filter(isScalar).map(String);
  return isScalar(value) ? [String(value)] : undefined;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
