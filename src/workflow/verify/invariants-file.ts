/**
 * A segments file: the invariants `meshwarden verify` proves, a YAML list (or a mapping with
 * `invariants:`), each with an optional `name` and exactly one kind:
 *   isolate: { from: { namespace | principal }, to: { namespace | service [, namespace] } }
 *   only: { callers: [SPIFFE ID | { namespace }], may: { methods?, paths? }, on?: DEST }
 *   noUnauthenticated: { to: { namespace | service } }
 *   everyDestinationCovered: { namespace }
 * Every problem of the file is reported at once, at file:line:col, before anything is proven.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { schemaIssues, type Issue } from '../../policy/index.js';
import { failOnIssues, readLocatedYaml, type LocatedYaml } from '../located-yaml.js';
import { WorkflowError, fileIssue } from '../workflow-error.js';
import { parseDestination } from '../reach/index.js';
import { normalizeCaller, type ReachDestination } from '../../policy/index.js';

export interface CallerSelector {
  readonly namespace?: string;
  readonly principal?: string;
}

export interface DestinationSelector {
  readonly namespace?: string;
  readonly service?: string;
}

export type InvariantKind =
  | { readonly kind: 'isolate'; readonly from: CallerSelector; readonly to: DestinationSelector }
  | { readonly kind: 'only'; readonly callers: readonly CallerSelector[]; readonly methods?: readonly string[]; readonly paths?: readonly string[]; readonly on?: ReachDestination }
  | { readonly kind: 'noUnauthenticated'; readonly to: DestinationSelector }
  | { readonly kind: 'everyDestinationCovered'; readonly to: DestinationSelector };

export type Invariant = InvariantKind & {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
};

const NAME = { type: 'string', minLength: 1 } as const;
const CALLER = {
  type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
  description: 'a caller: { namespace: NS } or { principal: SPIFFE_ID }',
  properties: { namespace: NAME, principal: NAME },
} as const;
const DESTINATION = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { namespace: NAME, service: NAME },
} as const;
const LIST = { type: 'array', minItems: 1, items: NAME } as const;

const INVARIANT = {
  type: 'object',
  additionalProperties: false,
  description: 'an invariant names exactly one of isolate, only, noUnauthenticated, everyDestinationCovered',
  properties: {
    name: NAME,
    isolate: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: CALLER, to: DESTINATION } },
    only: {
      type: 'object', additionalProperties: false, required: ['callers', 'may'],
      properties: {
        callers: { type: 'array', minItems: 1, items: { oneOf: [NAME, CALLER], description: 'a SPIFFE ID, or { namespace: NS }' } },
        may: { type: 'object', additionalProperties: false, minProperties: 1, properties: { methods: LIST, paths: LIST } },
        on: NAME,
      },
    },
    noUnauthenticated: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: DESTINATION } },
    everyDestinationCovered: DESTINATION,
  },
  oneOf: [{ required: ['isolate'] }, { required: ['only'] }, { required: ['noUnauthenticated'] }, { required: ['everyDestinationCovered'] }],
} as const;

const SCHEMA = { type: 'array', items: INVARIANT } as const;

let validator: ValidateFunction | undefined;

export async function readInvariants(file: string): Promise<Invariant[]> {
  return invariantsOf(await readLocatedYaml(file));
}

export function invariantsOf(yaml: LocatedYaml): Invariant[] {
  const { list, at } = invariantList(yaml.data);
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false }).compile(SCHEMA);
  if (!validator(list)) failOnIssues(yaml, 'invalid_invariants', schemaIssues(validator.errors ?? [], list).map((i) => ({ ...i, path: [...at, ...i.path] })));
  const specs = list as readonly Record<string, unknown>[];
  if (specs.length === 0) throw new WorkflowError('invalid_invariants', [fileIssue(yaml.file, 'the file holds no invariant')]);
  const issues: Issue[] = [];
  const invariants = specs.map((spec, index) => build(yaml, spec, [...at, index], issues));
  failOnIssues(yaml, 'invalid_invariants', issues);
  return invariants;
}

function invariantList(data: unknown): { list: unknown; at: (string | number)[] } {
  if (typeof data === 'object' && data !== null && !Array.isArray(data) && 'invariants' in data) return { list: (data as { invariants: unknown }).invariants, at: ['invariants'] };
  return { list: data ?? [], at: [] };
}

function build(yaml: LocatedYaml, spec: Record<string, unknown>, at: (string | number)[], issues: Issue[]): Invariant {
  const kind = kindOf(spec, at, issues);
  checkPrincipals(kind, at, issues);
  const { line, column } = yaml.locator.locate(at);
  return { ...kind, name: typeof spec['name'] === 'string' ? spec['name'] : describeInvariant(kind), file: yaml.file, line, column };
}

function kindOf(spec: Record<string, unknown>, at: (string | number)[], issues: Issue[]): InvariantKind {
  if (spec['isolate'] !== undefined) {
    const { from, to } = spec['isolate'] as { from: CallerSelector; to: DestinationSelector };
    return { kind: 'isolate', from, to };
  }
  if (spec['only'] !== undefined) {
    const only = spec['only'] as { callers: (string | CallerSelector)[]; may: { methods?: string[]; paths?: string[] }; on?: string };
    const callers = only.callers.map((c) => (typeof c === 'string' ? { principal: c } : c));
    const paths = only.may.paths?.map(globToPattern);
    let on: ReachDestination | undefined;
    try {
      on = only.on === undefined ? undefined : parseDestination(only.on);
    } catch (error) {
      issues.push({ code: 'invalid_value', path: [...at, 'only', 'on'], message: (error as Error).message.replace(/^--to /, '') });
    }
    return { kind: 'only', callers, ...(only.may.methods ? { methods: only.may.methods.map((m) => m.toUpperCase()) } : {}), ...(paths ? { paths } : {}), ...(on ? { on } : {}) };
  }
  if (spec['noUnauthenticated'] !== undefined) return { kind: 'noUnauthenticated', to: (spec['noUnauthenticated'] as { to: DestinationSelector }).to };
  return { kind: 'everyDestinationCovered', to: spec['everyDestinationCovered'] as DestinationSelector };
}

/** Every principal written must be a SPIFFE ID (or Istio's form of one): a typo would prove nothing. */
function checkPrincipals(kind: InvariantKind, at: (string | number)[], issues: Issue[]): void {
  const written: [string, (string | number)[]][] =
    kind.kind === 'isolate' && kind.from.principal !== undefined ? [[kind.from.principal, [...at, 'isolate', 'from', 'principal']]]
    : kind.kind === 'only' ? kind.callers.flatMap((c, i): [string, (string | number)[]][] => (c.principal === undefined ? [] : [[c.principal, [...at, 'only', 'callers', i]]]))
    : [];
  for (const [principal, path] of written) {
    try {
      if (normalizeCaller(principal) === undefined) throw new TypeError(`"${principal}" names no identity: list SPIFFE IDs`);
    } catch (error) {
      issues.push({ code: 'invalid_principal', path, message: (error as Error).message });
    }
  }
}

/** `/v1/charges/**` (everything under) as the policy language's prefix `/v1/charges/*`; other patterns as written. */
function globToPattern(path: string): string {
  return path.endsWith('/**') ? `${path.slice(0, -2)}*` : path;
}

function describeInvariant(kind: InvariantKind): string {
  switch (kind.kind) {
    case 'isolate': return `nothing from ${selectorText(kind.from)} reaches ${selectorText(kind.to)}`;
    case 'only': return `only ${kind.callers.map(selectorText).join(', ')} may ${kind.methods?.join(' ') ?? 'call'} ${kind.paths?.join(' ') ?? ''}`.trimEnd();
    case 'noUnauthenticated': return `nothing in ${selectorText(kind.to)} is reachable unauthenticated`;
    case 'everyDestinationCovered': return `every destination in ${selectorText(kind.to)} has an ALLOW policy`;
  }
}

export function selectorText(selector: CallerSelector | DestinationSelector): string {
  const parts = Object.entries(selector).map(([k, v]) => `${k} ${String(v)}`);
  return parts.join(' ');
}
