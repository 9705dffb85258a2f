/**
 * Workload principal patterns. Istio writes `cluster.local/ns/x/sa/y` without the scheme;
 * it means `spiffe://cluster.local/ns/x/sa/y`, so patterns are normalized to full URIs once.
 */
import { parseSpiffeId } from '../../../domain/index.js';
import { PatternError } from '../compile-error.js';
import { compileStringSet, type StringSetMatcher } from './string-match.js';

const SCHEME = 'spiffe://';

/** The pattern as a full-URI pattern; exact ones must be valid SPIFFE IDs (a typo never matches). */
export function normalizePrincipalPattern(pattern: string): string {
  if (pattern === '*' || pattern.startsWith('*')) return pattern;
  const full = pattern.startsWith(SCHEME) ? pattern : SCHEME + pattern;
  if (!full.endsWith('*')) {
    try {
      parseSpiffeId(full);
    } catch (error) {
      throw new PatternError('ERR_COMPILE_PRINCIPAL', `"${pattern}" is not a SPIFFE ID: ${(error as Error).message}`);
    }
  }
  return full;
}

export function compilePrincipalSet(patterns: readonly string[]): StringSetMatcher {
  return compileStringSet(patterns.map(normalizePrincipalPattern));
}
