/** Policy loading and validation: the public surface. */
export { loadPolicies } from './load-policies.js';
export type { LoadResult, LoadedFile } from './load-policies.js';
export { parsePolicyText } from './parse-policy-text.js';
export type { LoadOptions, ParseResult } from './parse-policy-text.js';
export { checkPolicies, formatCheckResult } from './check-policies.js';
export type { CheckResult, CheckOutputFormat } from './check-policies.js';
export { POLICY_ERROR_CODES, formatPolicyError } from './policy-error.js';
export type { PolicyError, PolicyErrorCode } from './policy-error.js';
export { POLICY_SCHEMA_URL } from './policy-schema.js';
