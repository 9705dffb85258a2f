/**
 * The text of one policy file (YAML, multi-document, or JSON, which YAML reads too) into
 * policies, with every error and warning placed at its file, line, column and field. A
 * Kubernetes `List` (what `kubectl get … -o yaml` prints) is read item by item; a Kubernetes
 * object that is not an authorization policy (a Deployment in an export, Istio's
 * PeerAuthentication) is skipped with a warning, or is an error when `strict`.
 */
import { LineCounter, isScalar, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import type { Policy } from '../model.js';
import { closestName, formatFieldPath, YamlLocator, type FieldPath } from '../../lib/index.js';
import { issue, type Issue } from './issue.js';
import { readPolicyDocument } from './policy-document.js';
import { sortByPosition, type PolicyError } from './policy-error.js';
import { duplicateIdErrors, type LocatedPolicy } from './duplicate-ids.js';
import { deepFreeze } from './deep-freeze.js';
import { tcpFindings } from './tcp-findings.js';

export interface LoadOptions {
  /** Istio's root namespace: policies there apply to every destination. */
  readonly rootNamespace: string;
  /** Destinations reached over TCP (`meshwarden check --tcp-services`): warned about in tcp-findings.ts. */
  readonly tcpServices?: readonly string[];
  /** Objects that are not authorization policies are errors rather than skipped with a warning. */
  readonly strict?: boolean;
}

export interface ParseResult {
  readonly policies: readonly Policy[];
  readonly errors: readonly PolicyError[];
  readonly warnings: readonly PolicyError[];
}

/** Parses one file's text; duplicate ids are checked within this text only. */
export function parsePolicyText(text: string, file: string, options: LoadOptions): ParseResult {
  assertLoadOptions(options);
  const parsed = parseFileText(text, file, options);
  const errors = sortByPosition([...parsed.errors, ...duplicateIdErrors(parsed.located)]);
  return deepFreeze({ policies: parsed.located.map((l) => l.policy), errors, warnings: parsed.warnings });
}

export interface FileParse {
  readonly located: LocatedPolicy[];
  readonly errors: PolicyError[];
  readonly warnings: PolicyError[];
}

/** Parses without the duplicate-id check, which loadPolicies runs across all files. */
export function parseFileText(text: string, file: string, options: LoadOptions): FileParse {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const result: FileParse = { located: [], errors: [], warnings: [] };
  let index = -1;
  for (const doc of documents) {
    index += 1;
    if (doc.errors.length > 0) {
      result.errors.push(...doc.errors.map((e) => syntaxError(e, file, lines)));
      continue;
    }
    if (isEmpty(doc)) continue;
    readDocument(doc, new YamlLocator(doc, lines), { file, index }, options, result);
  }
  if (result.located.length === 0 && result.errors.length === 0 && !hasContent(documents)) {
    result.warnings.push({ code: 'empty_file', file, line: 0, column: 0, field: '', message: 'the file holds no policy' });
  }
  return { located: result.located, errors: sortByPosition(result.errors), warnings: sortByPosition(result.warnings) };
}

interface DocumentAt {
  readonly file: string;
  readonly index: number;
}

function readDocument(doc: Document, locator: YamlLocator, at: DocumentAt, options: LoadOptions, out: FileParse): void {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    out.errors.push(placed({ code: 'yaml_syntax', path: [], message: (e as Error).message }, at.file, locator));
    return;
  }
  if (isList(data)) data.items.forEach((item, i) => readObject(item, ['items', i], locator, at, options, out));
  else readObject(data, [], locator, at, options, out);
}

/** One object of a document, at `prefix` in it (`[]`, or `['items', i]` in a List). */
function readObject(data: unknown, prefix: FieldPath, locator: YamlLocator, at: DocumentAt, options: LoadOptions, out: FileParse): void {
  const place = (i: Issue): PolicyError => placed({ ...i, path: [...prefix, ...i.path] }, at.file, locator);
  const other = otherObject(data);
  if (other !== undefined) {
    const what = options.strict ? 'only AuthorizationPolicy objects belong in policy files' : 'skipped';
    (options.strict ? out.errors : out.warnings).push(place(issue('not_a_policy', other.at, `${other.what} is not an authorization policy: ${what}`)));
    return;
  }
  if (!options.strict && isCustomPolicy(data)) {
    // Istio's CUSTOM policy is what sends requests to meshwarden: in an export, not an error.
    const message = 'action CUSTOM hands requests to an external authorizer (meshwarden, for the policy that routes to it): not a policy meshwarden enforces: skipped';
    out.warnings.push(place(issue('custom_action_not_applicable', ['spec', 'action'], message)));
    return;
  }
  const start = locator.locate(prefix);
  const origin = { file: at.file, document: at.index, line: start.line, column: start.column };
  const result = readPolicyDocument(data, origin, options.rootNamespace);
  out.errors.push(...result.errors.map(place));
  out.warnings.push(...result.warnings.map(place));
  if (result.policy !== undefined) {
    out.warnings.push(...tcpFindings(result.policy, options.tcpServices ?? []).map(place));
    out.located.push({ policy: deepFreeze(result.policy), name: locator.locate([...prefix, 'metadata', 'name']) });
  }
}

/** `kind: List` (or `AuthorizationPolicyList`) with `items`, as the Kubernetes API returns collections. */
function isList(data: unknown): data is { items: unknown[] } {
  const object = data as Record<string, unknown> | null;
  return typeof object === 'object' && object !== null && typeof object['kind'] === 'string' && object['kind'].endsWith('List') && Array.isArray(object['items']);
}

/**
 * What a document is when it is no policy: a Kubernetes object of another kind (`Deployment "x"
 * (apps/v1)`), or a mapping with none of a policy's fields (Helm values). Undefined for a policy,
 * and for what may be a mistaken one (meshwarden.io's group, a kind close to AuthorizationPolicy,
 * a spec without its envelope), which the envelope check then reports as an error.
 */
function otherObject(data: unknown): { what: string; at: FieldPath } | undefined {
  const object = data as Record<string, unknown> | null;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  const { apiVersion, kind, metadata, spec } = object;
  if ([apiVersion, kind, metadata, spec].every((field) => field === undefined)) {
    return { what: 'a mapping without apiVersion, kind, metadata or spec (not a Kubernetes object)', at: [] };
  }
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || kind === 'AuthorizationPolicy') return undefined;
  if (apiVersion.startsWith('meshwarden.io/') || closestName(kind, ['AuthorizationPolicy']) !== undefined) return undefined;
  const name = (metadata as Record<string, unknown> | undefined)?.['name'];
  return { what: `${kind}${typeof name === 'string' ? ` ${JSON.stringify(name)}` : ''} (${apiVersion})`, at: ['kind'] };
}

function isCustomPolicy(data: unknown): boolean {
  const object = data as { apiVersion?: unknown; spec?: { action?: unknown } } | null;
  return typeof object?.apiVersion === 'string' && object.apiVersion.startsWith('security.istio.io/') && object.spec?.action === 'CUSTOM';
}

function placed(i: Issue, file: string, locator: YamlLocator): PolicyError {
  const { line, column } = locator.locate(i.path, i.anchor);
  return { code: i.code, file, line, column, field: formatFieldPath(i.path), message: i.message };
}

function syntaxError(e: YAMLError, file: string, lines: LineCounter): PolicyError {
  const { line, col } = lines.linePos(e.pos[0]);
  const code = e.code === 'DUPLICATE_KEY' ? 'duplicate_key' : 'yaml_syntax';
  // yaml's message may carry its own "at line" suffix and excerpt; the position is ours.
  const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return { code, file, line, column: col, field: '', message };
}

function hasContent(documents: Iterable<Document>): boolean {
  for (const doc of documents) if (!isEmpty(doc)) return true;
  return false;
}

/** A document with nothing but comments (`---` alone yields a null scalar, not null). */
function isEmpty(doc: Document): boolean {
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

export function assertLoadOptions(options: LoadOptions): void {
  if (typeof options?.rootNamespace !== 'string' || options.rootNamespace === '') {
    throw new TypeError('options.rootNamespace must be a non-empty string (Istio default: istio-system)');
  }
}
