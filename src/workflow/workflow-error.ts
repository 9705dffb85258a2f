/**
 * The one error type of the workflow tools (test, learn, diff, graph, request files): each
 * problem names its file, and where the input is YAML, the line, column and field.
 */

export type WorkflowErrorCode =
  | 'read_failed'
  | 'yaml_syntax'
  | 'invalid_cases'
  | 'invalid_request'
  | 'invalid_flows'
  | 'policy_errors'
  | 'compile_failed'
  | 'fetch_failed'
  | 'graphviz_missing'
  | 'graphviz_failed'
  | 'engines_disagree'
  | 'invalid_invariants';

/** One located problem; line and column are 0 when the whole file is concerned. */
export interface WorkflowIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** e.g. `cases[2].request.path`; empty when no field is concerned. */
  readonly field: string;
  readonly message: string;
}

export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
  readonly code: WorkflowErrorCode;
  readonly issues: readonly WorkflowIssue[];

  constructor(code: WorkflowErrorCode, issues: readonly WorkflowIssue[] | string) {
    const list = typeof issues === 'string' ? [] : issues;
    super(typeof issues === 'string' ? issues : list.map(formatIssue).join('\n'));
    this.code = code;
    this.issues = list;
  }
}

/** `file:line:col: message (field)`, the form editors and CI annotations understand. */
export function formatIssue(issue: WorkflowIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  const field = issue.field === '' ? '' : ` (${issue.field})`;
  return `${where}: ${issue.message}${field}`;
}

export function fileIssue(file: string, message: string): WorkflowIssue {
  return { file, line: 0, column: 0, field: '', message };
}
