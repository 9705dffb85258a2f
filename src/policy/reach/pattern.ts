/**
 * What two policy patterns say about each other, for reach: whether every value one matches
 * the other matches too (containment), whether no value matches both (disjointness), and a few
 * values that match one (instances, to build witness requests). Containment and disjointness
 * are sound, not complete: "false" means "not proven", which reach treats as "maybe"; the
 * witness search with the real engine then settles what is reachable.
 */
import ipaddr from 'ipaddr.js';
import { leafMatches, type LeafKind } from '../engine/reference/leaf.js';

export type PatternKind = LeafKind;

const SCHEME = 'spiffe://';

/** The pattern as the engine compares it (principals with their scheme, hosts lower-cased). */
export function normalizePattern(kind: PatternKind, pattern: string): string {
  // The engine compiled (and so validated) every principal already: only the scheme is added here.
  if (kind === 'principal') return pattern.startsWith('*') || pattern.startsWith(SCHEME) ? pattern : SCHEME + pattern;
  if (kind === 'host') return pattern.toLowerCase();
  return pattern;
}

export function patternMatches(kind: PatternKind, pattern: string, value: string): boolean {
  return leafMatches(kind, pattern, value);
}

type Shape =
  | { readonly kind: 'exact'; readonly text: string }
  | { readonly kind: 'prefix'; readonly text: string }
  | { readonly kind: 'suffix'; readonly text: string }
  | { readonly kind: 'presence' }
  | { readonly kind: 'template'; readonly segments: readonly string[] };

function shapeOf(kind: PatternKind, pattern: string): Shape {
  if (kind === 'path' && pattern.includes('{')) return { kind: 'template', segments: pattern.slice(1).split('/') };
  if (kind === 'cidr' || kind === 'port') return { kind: 'exact', text: pattern };
  if (pattern === '*') return { kind: 'presence' };
  if (pattern.endsWith('*')) return { kind: 'prefix', text: pattern.slice(0, -1) };
  if (pattern.startsWith('*')) return { kind: 'suffix', text: pattern.slice(1) };
  return { kind: 'exact', text: pattern };
}

/** Every value `inner` matches, `outer` matches too (proven; false when not). */
export function contains(kind: PatternKind, outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (kind === 'cidr') return cidrContains(outer, inner);
  const [o, i] = [shapeOf(kind, outer), shapeOf(kind, inner)];
  if (i.kind === 'exact') return i.text !== '' && patternMatches(kind, outer, i.text);
  if (o.kind === 'presence') return true;
  if (o.kind === 'prefix') return literalHead(i)?.startsWith(o.text) ?? false;
  if (o.kind === 'suffix') return i.kind === 'suffix' && i.text.endsWith(o.text);
  if (o.kind === 'template' && i.kind === 'template') return templateContains(o.segments, i.segments);
  return false;
}

/** No value matches both (proven; false when not). */
export function disjoint(kind: PatternKind, a: string, b: string): boolean {
  if (a === b) return false;
  if (kind === 'cidr') return cidrDisjoint(a, b);
  const [x, y] = [shapeOf(kind, a), shapeOf(kind, b)];
  if (x.kind === 'exact') return !patternMatches(kind, b, x.text);
  if (y.kind === 'exact') return !patternMatches(kind, a, y.text);
  if (x.kind === 'presence' || y.kind === 'presence') return false;
  if (x.kind === 'suffix' && y.kind === 'suffix') return !x.text.endsWith(y.text) && !y.text.endsWith(x.text);
  if (x.kind === 'template' && y.kind === 'template') return templatesDisjoint(x.segments, y.segments);
  const [hx, hy] = [literalHead(x), literalHead(y)];
  if (hx === undefined || hy === undefined) return false;
  return !hx.startsWith(hy) && !hy.startsWith(hx);
}

/** The text every match starts with: a prefix's literal, a template's literal segments before the first placeholder. */
function literalHead(shape: Shape): string | undefined {
  if (shape.kind === 'prefix') return shape.text;
  if (shape.kind !== 'template') return undefined;
  const head: string[] = [];
  for (const segment of shape.segments) {
    if (segment.startsWith('{')) return `/${head.map((s) => `${s}/`).join('')}`;
    head.push(segment);
  }
  return `/${head.join('/')}`;
}

function templateContains(outer: readonly string[], inner: readonly string[]): boolean {
  for (let i = 0; i < outer.length; i += 1) {
    const o = outer[i]!;
    if (o === '{**}') return inner.length > i;
    const s = inner[i];
    if (s === undefined || s === '{**}') return false;
    if (o === '{*}' ? s === '' : o !== s) return false;
  }
  return outer.length === inner.length;
}

function templatesDisjoint(a: readonly string[], b: readonly string[]): boolean {
  const restA = a.at(-1) === '{**}';
  const restB = b.at(-1) === '{**}';
  const fixedA = restA ? a.length - 1 : a.length;
  const fixedB = restB ? b.length - 1 : b.length;
  // Lengths: exactly `fixed` segments, or (with `{**}`) more than `fixed`.
  if (!restA && !restB && fixedA !== fixedB) return true;
  if (!restA && restB && fixedA <= fixedB) return true;
  if (restA && !restB && fixedB <= fixedA) return true;
  for (let i = 0; i < Math.min(fixedA, fixedB); i += 1) {
    const [x, y] = [a[i]!, b[i]!];
    if (!x.startsWith('{') && !y.startsWith('{') && x !== y) return true;
  }
  return false;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function cidrRange(pattern: string): Range | undefined {
  try {
    if (pattern.includes('/')) return ipaddr.parseCIDR(pattern);
    const address = ipaddr.parse(pattern);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

function cidrContains(outer: string, inner: string): boolean {
  const [o, i] = [cidrRange(outer), cidrRange(inner)];
  if (o === undefined || i === undefined || o[0].kind() !== i[0].kind()) return false;
  return i[1] >= o[1] && i[0].match(o);
}

function cidrDisjoint(a: string, b: string): boolean {
  const [x, y] = [cidrRange(a), cidrRange(b)];
  if (x === undefined || y === undefined || x[0].kind() !== y[0].kind()) return false;
  return !x[0].match(y) && !y[0].match(x);
}

/**
 * A few values the pattern matches, the plainest first. `fill` names the free parts
 * (a template's placeholders, a prefix's tail) so witnesses read as made up.
 */
export function instances(kind: PatternKind, pattern: string, fill = 'w1'): readonly string[] {
  if (kind === 'cidr') return cidrInstance(pattern);
  if (kind === 'port') return [pattern];
  const shape = shapeOf(kind, pattern);
  switch (shape.kind) {
    case 'exact': return [shape.text];
    case 'presence': return [freshValue(kind, fill)];
    case 'prefix': return kind === 'path' || kind === 'principal' ? [shape.text + fill, shape.text] : [shape.text, shape.text + fill];
    case 'suffix': return kind === 'path' ? [`/${fill}${shape.text}`] : kind === 'principal' ? [`spiffe://witness.example/${fill}${shape.text}`] : [shape.text, fill + shape.text];
    case 'template': {
      const one = `/${shape.segments.map((s) => (s.startsWith('{') ? fill : s)).join('/')}`;
      return shape.segments.at(-1) === '{**}' ? [one, `${one}/w2`] : [one];
    }
  }
}

/** A value no written pattern is likely to name. */
export function freshValue(kind: PatternKind, fill = 'w1'): string {
  switch (kind) {
    case 'path': return `/${fill}`;
    case 'principal': return `spiffe://witness.example/ns/witness/sa/${fill}`;
    case 'cidr': return '192.0.2.1';
    case 'port': return '8080';
    default: return fill;
  }
}

function cidrInstance(pattern: string): readonly string[] {
  const range = cidrRange(pattern);
  if (range === undefined) return [];
  const [address, bits] = range;
  const network = address.kind() === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`);
  return [network.toString()];
}
