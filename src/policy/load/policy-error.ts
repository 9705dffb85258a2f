/**
 * What loading reports: every problem of every file, each naming file, line, column and
 * field. Codes are a closed set so that CI output, tests and metrics can rely on them.
 */

export const POLICY_ERROR_CODES = [
  // reading and parsing
  'read_failed',
  'yaml_syntax',
  'duplicate_key',
  // document envelope
  'unknown_api_version',
  'unknown_kind',
  // schema
  'unknown_field',
  'unsupported_field',
  'missing_field',
  'wrong_type',
  'invalid_value',
  'empty_value',
  // semantics the schema cannot express
  'custom_action_not_applicable',
  'invalid_annotation',
  'invalid_condition_key',
  'condition_without_values',
  'invalid_ip_block',
  'invalid_port',
  'invalid_method',
  'invalid_host',
  'invalid_path',
  'invalid_path_template',
  'non_canonical_path',
  'invalid_string_match',
  'invalid_principal',
  'duplicate_policy_id',
  // a warning (the object is skipped), or an error when strict
  'not_a_policy',
  // warnings
  'target_ref_unsupported',
  'selector_allow_scoped',
  'selector_deny_unscoped',
  'no_rules',
  'unknown_method',
  'http_only_field_on_tcp',
  'empty_file',
  'no_policy_files',
] as const;

export type PolicyErrorCode = (typeof POLICY_ERROR_CODES)[number];

export interface PolicyError {
  readonly code: PolicyErrorCode;
  readonly file: string;
  /** 1-based; 0 when the problem concerns the whole file (e.g. it cannot be read). */
  readonly line: number;
  /** 1-based; 0 together with line 0. */
  readonly column: number;
  /** e.g. `spec.rules[0].to[1].operation.paths[2]`; empty when no field is concerned. */
  readonly field: string;
  readonly message: string;
}

/** `file:line:col: message (field)`, the form editors and CI annotations understand. */
export function formatPolicyError(e: PolicyError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  const field = e.field === '' ? '' : ` (${e.field})`;
  return `${where}: ${e.message}${field}`;
}

/** The errors of one file in reading order (the sort is stable for equal positions). */
export function sortByPosition(errors: readonly PolicyError[]): PolicyError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
}
