/**
 * Path matching: Istio string matching, plus templates where `{*}` is exactly one
 * non-empty segment and `{**}` one or more segments, allowed only as the last segment
 * (Istio's AuthorizationPolicy path templates). Templates are split into segments once,
 * here; matching walks the request path by index, without regex.
 */
import { PatternError } from '../compile-error.js';
import { compileStringMatch, type StringMatcher } from './string-match.js';

export type PathSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'rest' };

export interface PathMatcher {
  readonly kind: 'string' | 'template';
  matches(path: string): boolean;
}

export function isPathTemplate(pattern: string): boolean {
  return pattern.includes('{');
}

/** Splits `/a/{*}/b` into segments, refusing anything Istio would refuse. */
export function parsePathTemplate(pattern: string): readonly PathSegment[] {
  if (!pattern.startsWith('/')) {
    throw new PatternError('ERR_COMPILE_PATH_TEMPLATE', `"${pattern}": a template must start with "/"`);
  }
  const texts = pattern.slice(1).split('/');
  const segments = texts.map((text, index): PathSegment => {
    if (text === '{*}') return ONE;
    if (text === '{**}') {
      if (index !== texts.length - 1) {
        throw new PatternError('ERR_COMPILE_PATH_TEMPLATE', `"${pattern}": "{**}" must be the last segment`);
      }
      return REST;
    }
    if (text.includes('{') || text.includes('}') || text.includes('*')) {
      throw new PatternError(
        'ERR_COMPILE_PATH_TEMPLATE',
        `"${pattern}": a segment is either literal, "{*}" or "{**}"`,
      );
    }
    return Object.freeze({ kind: 'literal', text });
  });
  return Object.freeze(segments);
}

const ONE: PathSegment = Object.freeze({ kind: 'one' });
const REST: PathSegment = Object.freeze({ kind: 'rest' });

class StringPathMatch implements PathMatcher {
  readonly kind = 'string';
  constructor(readonly inner: StringMatcher) {}
  matches(path: string): boolean {
    return this.inner.matches(path);
  }
}

class TemplatePathMatch implements PathMatcher {
  readonly kind = 'template';
  constructor(readonly segments: readonly PathSegment[]) {}

  matches(path: string): boolean {
    if (path.charCodeAt(0) !== SLASH) return false;
    let start = 1;
    const segments = this.segments;
    for (let i = 0; i < segments.length; i += 1) {
      const segment = segments[i]!;
      if (start > path.length) return false;
      const slash = path.indexOf('/', start);
      const end = slash === -1 ? path.length : slash;
      switch (segment.kind) {
        case 'rest':
          return start < path.length;
        case 'one':
          if (end === start) return false;
          break;
        case 'literal':
          if (end - start !== segment.text.length || !path.startsWith(segment.text, start)) return false;
          break;
      }
      start = end + 1;
    }
    // Every segment consumed: the path must end exactly here (no trailing segments).
    return start === path.length + 1;
  }
}

const SLASH = 0x2f;

export function compilePathMatch(pattern: string): PathMatcher {
  if (isPathTemplate(pattern)) return Object.freeze(new TemplatePathMatch(parsePathTemplate(pattern)));
  return Object.freeze(new StringPathMatch(compileStringMatch(pattern)));
}

/** Path patterns OR-ed; exact paths through a Set. */
export class PathSetMatcher {
  // Exact paths: an array while few (cheaper in memory and time), a Set beyond.
  readonly #exact: ReadonlySet<string> | readonly string[];
  readonly #others: readonly PathMatcher[];

  constructor(patterns: readonly string[]) {
    const exact = patterns.filter((p) => !p.includes('*') && !isPathTemplate(p));
    this.#exact = exact.length > 8 ? new Set(exact) : Object.freeze(exact);
    this.#others = Object.freeze(patterns.filter((p) => !exact.includes(p)).map(compilePathMatch));
    Object.freeze(this);
  }

  matches(path: string): boolean {
    const exact = this.#exact;
    if (Array.isArray(exact) ? exact.includes(path) : (exact as ReadonlySet<string>).has(path)) return true;
    const others = this.#others;
    for (let i = 0; i < others.length; i += 1) if (others[i]!.matches(path)) return true;
    return false;
  }
}
