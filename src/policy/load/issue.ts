/** A problem found in one document, before it is placed in the file by the locator. */
import type { Anchor, FieldPath } from '../../lib/index.js';
import type { PolicyErrorCode } from './policy-error.js';

export interface Issue {
  readonly code: PolicyErrorCode;
  readonly path: FieldPath;
  readonly message: string;
  /** Where the position points; `value` unless the key itself is wrong. */
  readonly anchor?: Anchor;
}

export function issue(code: PolicyErrorCode, path: FieldPath, message: string, anchor?: Anchor): Issue {
  return anchor === undefined ? { code, path, message } : { code, path, message, anchor };
}

/** What checking one document found: errors stop it from loading, warnings do not. */
export interface Findings {
  readonly errors: Issue[];
  readonly warnings: Issue[];
}
