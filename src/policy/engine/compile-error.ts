/**
 * The one error the compiler throws. Every value that cannot be compiled is refused here,
 * while building, so evaluation never meets a malformed matcher (Envoy RBAC's rule).
 */

export type CompileErrorCode =
  | 'ERR_COMPILE_DUPLICATE_ID'
  | 'ERR_COMPILE_PATTERN'
  | 'ERR_COMPILE_PATH_TEMPLATE'
  | 'ERR_COMPILE_CIDR'
  | 'ERR_COMPILE_PORT'
  | 'ERR_COMPILE_PRINCIPAL'
  | 'ERR_COMPILE_CONDITION_KEY'
  | 'ERR_COMPILE_CONDITION_EMPTY';

export class CompileError extends Error {
  constructor(
    readonly code: CompileErrorCode,
    /** The policy id, so the loader can point at its file and line. */
    readonly policy: string,
    /** Where in the policy, e.g. `rules[0].from[1].source.ipBlocks[2]`. */
    readonly field: string,
    message: string,
  ) {
    super(`${policy}: ${field}: ${message}`);
    this.name = 'CompileError';
  }
}

/**
 * Leaf compilers know the value, not where it sits; they throw this and the policy
 * compiler rethrows it as a CompileError with the policy id and field path.
 */
export class PatternError extends Error {
  constructor(
    readonly code: CompileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PatternError';
  }
}

/** Runs a leaf compiler, naming the policy and field on failure (the field is spelled out only then). */
export function compileAt<T>(policy: string, field: string | (() => string), build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof PatternError) {
      throw new CompileError(error.code, policy, typeof field === 'string' ? field : field(), error.message);
    }
    throw error;
  }
}
