/**
 * The text of one policy file (YAML, multi-document, or JSON, which YAML reads too) into
 * policies, with every error and warning placed at its file, line, column and field.
 */
import { LineCounter, isScalar, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import type { Policy } from '../model.js';
import { formatFieldPath, YamlLocator } from '../../lib/index.js';
import type { Issue } from './issue.js';
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
  const start = locator.position(doc.contents) ?? { line: 1, column: 1 };
  const origin = { file: at.file, document: at.index, line: start.line, column: start.column };
  const result = readPolicyDocument(data, origin, options.rootNamespace);
  out.errors.push(...result.errors.map((i) => placed(i, at.file, locator)));
  out.warnings.push(...result.warnings.map((i) => placed(i, at.file, locator)));
  if (result.policy !== undefined) {
    out.warnings.push(...tcpFindings(result.policy, options.tcpServices ?? []).map((i) => placed(i, at.file, locator)));
    out.located.push({ policy: deepFreeze(result.policy), name: locator.locate(['metadata', 'name']) });
  }
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
