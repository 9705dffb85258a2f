/**
 * Checks one `paths`/`notPaths` entry. Requests are matched on their canonical path, so a
 * policy path that no canonical path can equal would silently never match: refused.
 */
import type { PolicyErrorCode } from './policy-error.js';
import { stringMatchProblem } from './string-match.js';

export interface PathProblem {
  readonly code: PolicyErrorCode;
  readonly message: string;
}

export function pathProblem(path: string): PathProblem | undefined {
  const segments = path.split('/');
  const templated = segments.some((s) => s.includes('{') || s.includes('}'));
  if (templated) return templateProblem(path, segments);
  const match = stringMatchProblem(path);
  if (match !== undefined) return { code: 'invalid_string_match', message: match };
  if (!path.startsWith('/') && !path.startsWith('*')) {
    return { code: 'invalid_path', message: `"${path}" must start with "/" (or be a "*" pattern)` };
  }
  return canonicalProblem(path, segments);
}

function templateProblem(path: string, segments: readonly string[]): PathProblem | undefined {
  const fail = (message: string): PathProblem => ({ code: 'invalid_path_template', message });
  if (!path.startsWith('/')) return fail(`"${path}": a templated path must start with "/"`);
  if (path.includes('*') && segments.some((s) => s.includes('*') && s !== '{*}' && s !== '{**}')) {
    return fail(`"${path}" mixes "*" wildcards with {*}/{**} templates`);
  }
  for (const [i, segment] of segments.entries()) {
    const isTemplate = segment === '{*}' || segment === '{**}';
    if (!isTemplate && (segment.includes('{') || segment.includes('}'))) {
      return fail(`"${path}": {*} and {**} must be whole path segments, and no other braces are allowed`);
    }
    if (segment === '{**}' && i !== segments.length - 1) {
      return fail(`"${path}": {**} is only allowed as the last segment`);
    }
  }
  return canonicalProblem(path, segments);
}

function canonicalProblem(path: string, segments: readonly string[]): PathProblem | undefined {
  const fail = (why: string): PathProblem => ({
    code: 'non_canonical_path',
    message: `"${path}" ${why}: requests are matched on their canonical path, so this would never match`,
  });
  if (path.includes('?') || path.includes('#')) return fail('contains a query or fragment');
  if (segments.some((s) => s === '.' || s === '..')) return fail('contains a "." or ".." segment');
  return undefined;
}
