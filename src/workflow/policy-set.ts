/**
 * Loads and compiles a set of policy paths exactly as the server does (same loader, same
 * compiler, same options), so the workflow tools judge with the engine that enforces.
 */
import {
  compileTree,
  CompileError,
  formatPolicyError,
  loadPolicies,
  type DecisionTree,
  type EngineOptions,
  type Policy,
} from '../policy/index.js';
import { WorkflowError, fileIssue } from './workflow-error.js';

export interface PolicySet {
  readonly policies: readonly Policy[];
  readonly tree: DecisionTree;
  readonly options: EngineOptions;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = Object.freeze({ defaultAction: 'DENY', rootNamespace: 'istio-system' });

/** Throws WorkflowError `policy_errors` (every error, file:line:col) or `compile_failed`. */
export async function loadPolicySet(paths: readonly string[], options: EngineOptions): Promise<PolicySet> {
  const loaded = await loadPolicies(paths, { rootNamespace: options.rootNamespace });
  if (loaded.errors.length > 0) {
    const issues = loaded.errors.map((e) => ({ file: e.file, line: e.line, column: e.column, field: e.field, message: e.message }));
    throw new WorkflowError('policy_errors', issues);
  }
  try {
    return { policies: loaded.policies, tree: compileTree(loaded.policies, options), options };
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    throw new WorkflowError('compile_failed', [fileIssue(paths.join(', '), error.message)]);
  }
}

/** `--default-action` and `--root-namespace` flags → engine options (a bad value is a usage error). */
export function engineOptions(defaultAction: string | undefined, rootNamespace: string | undefined): EngineOptions {
  const action = (defaultAction ?? DEFAULT_ENGINE_OPTIONS.defaultAction).toUpperCase();
  if (action !== 'ALLOW' && action !== 'DENY') throw new TypeError(`--default-action must be ALLOW or DENY, not "${defaultAction}"`);
  return { defaultAction: action, rootNamespace: rootNamespace ?? DEFAULT_ENGINE_OPTIONS.rootNamespace };
}

export { formatPolicyError };
