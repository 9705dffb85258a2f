/**
 * A single YAML (or JSON) document with its locator, so the workflow readers place their
 * problems at file:line:col exactly as policy loading does.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { formatFieldPath, YamlLocator, type FieldPath } from '../lib/index.js';
import type { Issue } from '../policy/index.js';
import { WorkflowError, fileIssue, type WorkflowErrorCode, type WorkflowIssue } from './workflow-error.js';

export interface LocatedYaml {
  readonly file: string;
  readonly data: unknown;
  readonly locator: YamlLocator;
}

export async function readLocatedYaml(file: string): Promise<LocatedYaml> {
  return parseLocatedYaml(await readText(file), file);
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new WorkflowError('read_failed', [fileIssue(file, `cannot read: ${(error as Error).message}`)]);
  }
}

/** Throws WorkflowError `yaml_syntax` with every syntax error placed. */
export function parseLocatedYaml(text: string, file: string): LocatedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e): WorkflowIssue => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { file, line, column: col, field: '', message: e.message.split('\n')[0]! };
    });
    throw new WorkflowError('yaml_syntax', issues);
  }
  return { file, data: toData(doc, file), locator: new YamlLocator(doc, lines) };
}

/** Aliases expanding past 100 (a billion laughs) are refused as the input's fault, not thrown as ours. */
function toData(doc: ReturnType<typeof parseDocument>, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new WorkflowError('yaml_syntax', [fileIssue(file, `aliases expand too far: ${error.message}`)]);
  }
}

/** An issue found in the data, placed in the text. */
export function placeIssue(yaml: LocatedYaml, issue: Issue): WorkflowIssue {
  const { line, column } = yaml.locator.locate(issue.path, issue.anchor);
  return { file: yaml.file, line, column, field: formatFieldPath(issue.path), message: issue.message };
}

export function failOnIssues(yaml: LocatedYaml, code: WorkflowErrorCode, issues: readonly Issue[]): void {
  if (issues.length > 0) throw new WorkflowError(code, issues.map((i) => placeIssue(yaml, i)));
}

export type { FieldPath };
