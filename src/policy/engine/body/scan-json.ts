/**
 * One pass over JSON text that JSON.parse has already accepted, for what JSON.parse does not
 * say: how deep the document nests, whether an object on a path the policies read names a
 * member twice, and whether each number is written as its double's text reads. JSON.parse keeps the last
 * of two equal names and many parsers keep the first, and some match names without case
 * (`AMOUNT` binds to `amount`): so names are compared escapes decoded and case folded. And a
 * number with more digits than a double holds (10.0000000000000001, 1e400) is not the number
 * a workload decoding exact decimals (json.Number, BigDecimal, Decimal) acts on. Either way, a
 * workload could act on a value the policy never saw.
 */
import { foldCase, type BodyPathNode, type BodyPaths } from './body-paths.js';

export const TOO_DEEP = 'too_deep';
/** A number in the body whose double's text is not the number written: the body is unseen as a whole. */
export const INEXACT_NUMBER = 'inexact_number';

/** Node ids (BodyPaths) whose member name was repeated in its object. */
export type RepeatedMembers = Uint8Array;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * `TOO_DEEP` past `maxDepth` nested objects and arrays, `INEXACT_NUMBER` for a number its
 * double's text does not write; else the repeats found (undefined: none).
 */
export function scanJson(text: string, maxDepth: number, paths: BodyPaths): RepeatedMembers | undefined | typeof TOO_DEEP | typeof INEXACT_NUMBER {
  return new Scan(text, paths).run(maxDepth);
}

class Scan {
  // By depth: the trie node of an object whose members are read (undefined: nothing read
  // below it, or an array, whose elements no path enters), its members seen, its kind.
  readonly #nodes: (BodyPathNode | undefined)[] = [];
  readonly #seen: (Uint8Array | undefined)[] = [];
  readonly #isObject: boolean[] = [];
  #repeated: RepeatedMembers | undefined;

  constructor(
    readonly text: string,
    readonly paths: BodyPaths,
  ) {}

  // One loop, locals only: it runs over every character of the body.
  run(maxDepth: number): RepeatedMembers | undefined | typeof TOO_DEEP | typeof INEXACT_NUMBER {
    const text = this.text;
    const nodes = this.#nodes;
    const isObject = this.#isObject;
    let depth = 0;
    let expectName = false;
    // The trie node of the value about to open: the root for the document, a member's after its name.
    let next: BodyPathNode | undefined = this.paths.root;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (expectName && nodes[depth] !== undefined) next = this.#member(depth, i + 1, end);
        expectName = false;
        i = end;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (++depth > maxDepth) return TOO_DEEP;
        const object = c === OPEN_OBJECT;
        nodes[depth] = object && next !== undefined && next.names.length > 0 ? this.#track(depth, next) : undefined;
        isObject[depth] = object;
        expectName = object;
        next = undefined;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth -= 1;
        expectName = false;
        next = undefined;
      } else if (c === COMMA) {
        expectName = isObject[depth]!;
        next = undefined;
      } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
        const end = numberEnd(text, i);
        if (!isExactDouble(text.slice(i, end))) return INEXACT_NUMBER;
        i = end - 1;
      }
    }
    return this.#repeated;
  }

  #track(depth: number, node: BodyPathNode): BodyPathNode {
    this.#seen[depth] = new Uint8Array(node.names.length);
    return node;
  }

  /** The name between `start` and `end` in the tracked object at `depth`: the node it leads to, its repeat noted. */
  #member(depth: number, start: number, end: number): BodyPathNode | undefined {
    const node = this.#nodes[depth]!;
    const at = nameIndex(node, this.text, start, end);
    if (at === -1) return undefined;
    const seen = this.#seen[depth]!;
    const group = node.classes[at]!;
    if (seen[group] === 1) this.#repeat(node, group);
    seen[group] = 1;
    return node.children[at];
  }

  /** Every name of the node that folds as the repeated one is unseen. */
  #repeat(node: BodyPathNode, group: number): void {
    const repeated = (this.#repeated ??= new Uint8Array(this.paths.size));
    for (let i = 0; i < node.names.length; i += 1) if (node.classes[i] === group) repeated[node.children[i]!.id] = 1;
  }
}

/** The index of the closing quote of the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length; // unreachable for text JSON.parse accepted
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/**
 * Which of the node's names the JSON string text[start, end) spells, escapes decoded, cut at a
 * NUL (`\u0000`: a decoder on C strings reads `"amount\u0000x"` as `amount`) and case folded;
 * -1 for none. A plain ASCII name of a length no name folds to is ruled out unread.
 */
function nameIndex(node: BodyPathNode, text: string, start: number, end: number): number {
  let plain = true;
  let ascii = true;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) plain = false;
    else if (c > 0x7f) ascii = false;
  }
  if (plain) {
    const names = node.names;
    for (let i = 0; i < names.length; i += 1) {
      if (names[i]!.length === end - start && text.startsWith(names[i]!, start)) return i;
    }
    if (ascii && !node.foldedLengths.has(end - start)) return -1;
  }
  // a NUL comes only escaped (JSON.parse refuses a raw control character)
  const name = plain ? text.slice(start, end) : beforeNul(JSON.parse(text.slice(start - 1, end + 1)) as string);
  return node.folded.indexOf(foldCase(name));
}

function beforeNul(name: string): string {
  const nul = name.indexOf('\0');
  return nul === -1 ? name : name.slice(0, nul);
}

/** Where the number literal starting at `start` ends (JSON.parse accepted it: digits, `-+.eE`). */
function numberEnd(text: string, start: number): number {
  let end = start + 1;
  for (; end < text.length; end += 1) {
    const c = text.charCodeAt(end);
    if (!((c >= DIGIT_0 && c <= DIGIT_9) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS)) break;
  }
  return end;
}

/**
 * Whether the literal names the same decimal as the shortest text of the double it parses to
 * (the text conditions compare): then a workload decoding doubles and one decoding exact
 * decimals both act on the number the policy read. `10.0`, `1e5`, `0.1` and
 * `3.141592653589793` do; `10.0000000000000001` and `1e400` do not.
 */
function isExactDouble(literal: string): boolean {
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  const text = String(value);
  // most literals are already the double's text (10, 0.5): no decimal to work out for them
  return literal === text || sameDecimal(literal, text);
}

/** Two decimal texts (JSON or JS number syntax) name the same number: digits and scale compared, sign aside for zero. */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalOf(a);
  const y = decimalOf(b);
  if (x.digits === '' && y.digits === '') return true; // 0 and -0
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

/** A decimal as its significant digits (no leading or trailing zeros) and the power of ten of the last one. */
function decimalOf(text: string): { negative: boolean; digits: string; exponent: number } {
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const e = unsigned.search(/[eE]/);
  const mantissa = e === -1 ? unsigned : unsigned.slice(0, e);
  let exponent = e === -1 ? 0 : Number(unsigned.slice(e + 1));
  const dot = mantissa.indexOf('.');
  if (dot !== -1) exponent -= mantissa.length - dot - 1;
  let digits = mantissa.replace('.', '').replace(/^0+/, '');
  const trimmed = digits.replace(/0+$/, '');
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  return { negative, digits, exponent: digits === '' ? 0 : exponent };
}
