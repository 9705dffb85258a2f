/**
 * The short candidate lists of every bucket, keyed by (bucket, source principal), in one
 * open-addressing hash table of Int32Arrays. A JS object graph (bucket → Map → array →
 * rule → matcher) costs a cache and TLB miss per hop once a large tree no longer fits in
 * cache; here a lookup reads one 16-byte slot, which holds a lone candidate itself (the
 * usual case) or points at a run of packed ones, and the matchers named are the shared
 * ones (SharedMatchers), which stay warm.
 */
import type { Matcher } from '../matchers/matcher.js';
import type { Accumulator } from './accumulator.js';
import type { CompiledRule, Slot } from './compiled-rule.js';
import type { Rules } from './rule-index.js';
import { compactKeys } from './compact-keys.js';

/** The principal id of the lists that hold rules for any principal. */
export const ANY_PRINCIPAL = 0;

/** Per table slot: bucket id + 1 (0: empty), principal id, then a lone candidate or a list. */
const SLOT_INTS = 4;
/** Slot word 2 when it holds a list: -(offset + 1) into `entries`; else the lone candidate's ordinal. */
/** Slot word 3 of a lone candidate: matcher id << 3 | slot (a lone candidate is never residual). */
const SLOT_BITS = 3;
const SLOT_MASK = 7;
/** Per listed candidate: ordinal, matcher id, slot, policy rank + 1 if residual (else 0). */
const STRIDE = 4;

export class PrincipalTable {
  readonly #principals: ReadonlyMap<string, number>;
  readonly #slots: Int32Array;
  readonly #mask: number;
  /** Lists: a count, then `count` packed candidates. */
  readonly #entries: Int32Array;
  readonly #matchers: readonly Matcher[];

  constructor(builder: PrincipalTableBuilder) {
    this.#principals = compactKeys(builder.principalIds);
    const { buckets, principals, lists } = builder;
    // At most half full: a key that is absent (most principals in most buckets) ends its probe fast.
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(4, lists.length * 2)));
    this.#mask = capacity - 1;
    this.#slots = new Int32Array(capacity * SLOT_INTS);
    this.#entries = new Int32Array(lists.reduce((n, list) => (isLone(list) ? n : n + 1 + listOf(list).length * STRIDE), 0));
    this.#matchers = Object.freeze([...builder.matchers.keys()]);
    let offset = 0;
    for (let i = 0; i < lists.length; i += 1) {
      const bucket = buckets[i]!;
      const principal = principals[i]!;
      const list = lists[i]!;
      const at = this.#free(bucket, principal);
      this.#slots[at] = bucket + 1;
      this.#slots[at + 1] = principal;
      if (isLone(list)) {
        const rule = Array.isArray(list) ? list[0]! : list;
        this.#slots[at + 2] = rule.ordinal;
        this.#slots[at + 3] = (builder.matchers.get(rule.matcher)! << SLOT_BITS) | rule.slot;
      } else {
        this.#slots[at + 2] = -(offset + 1);
        offset = this.#pack(listOf(list), offset, builder.matchers);
      }
    }
    Object.freeze(this);
  }

  /** The id of a source principal some list is keyed by; -1 for any other (or none). */
  principalId(principal: string | undefined): number {
    return principal === undefined ? -1 : (this.#principals.get(principal) ?? -1);
  }

  /** Offers the candidates of (bucket, principal), if any, to the accumulator. */
  collect(bucket: number, principal: number, state: Accumulator): void {
    const slots = this.#slots;
    const key = bucket + 1;
    for (let i = hash(bucket, principal) & this.#mask; ; i = (i + 1) & this.#mask) {
      const at = i * SLOT_INTS;
      const stored = slots[at]!;
      if (stored === 0) return;
      if (stored !== key || slots[at + 1] !== principal) continue;
      const word = slots[at + 2]!;
      if (word < 0) return this.#offer(-word - 1, state);
      const packed = slots[at + 3]!;
      return state.offer(word, (packed & SLOT_MASK) as Slot, false, 0, this.#matchers[packed >>> SLOT_BITS]!);
    }
  }

  #offer(offset: number, state: Accumulator): void {
    const entries = this.#entries;
    const end = offset + 1 + entries[offset]! * STRIDE;
    for (let at = offset + 1; at < end; at += STRIDE) {
      const rank = entries[at + 3]!;
      state.offer(entries[at]!, entries[at + 2] as Slot, rank !== 0, rank - 1, this.#matchers[entries[at + 1]!]!);
    }
  }

  #free(bucket: number, principal: number): number {
    let i = hash(bucket, principal) & this.#mask;
    while (this.#slots[i * SLOT_INTS] !== 0) i = (i + 1) & this.#mask;
    return i * SLOT_INTS;
  }

  #pack(list: readonly CompiledRule[], offset: number, matchers: ReadonlyMap<Matcher, number>): number {
    const entries = this.#entries;
    entries[offset] = list.length;
    let at = offset + 1;
    for (const rule of list) {
      entries[at] = rule.ordinal;
      entries[at + 1] = matchers.get(rule.matcher)!;
      entries[at + 2] = rule.slot;
      entries[at + 3] = rule.residual ? rule.policyRank + 1 : 0;
      at += STRIDE;
    }
    return at;
  }
}

function isLone(rules: Rules): boolean {
  return Array.isArray(rules) ? rules.length === 1 && !rules[0]!.residual : !rules.residual;
}

function listOf(rules: Rules): readonly CompiledRule[] {
  return Array.isArray(rules) ? rules : [rules];
}

function hash(bucket: number, principal: number): number {
  const h = Math.imul(bucket, 0x9e3779b1) ^ Math.imul(principal + 0x7f4a7c15, 0x85ebca77);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Collects the lists while buckets seal, then builds the table. */
export class PrincipalTableBuilder {
  readonly principalIds = new Map<string, number>();
  readonly matchers = new Map<Matcher, number>();
  // Three parallel arrays rather than an object per list: 200k lists at 100k rules.
  readonly buckets: number[] = [];
  readonly principals: number[] = [];
  readonly lists: Rules[] = [];

  /** Returns the principal id the list is filed under. */
  add(bucket: number, principal: string | undefined, rules: Rules): number {
    const id = principal === undefined ? ANY_PRINCIPAL : this.#principalId(principal);
    this.buckets.push(bucket);
    this.principals.push(id);
    this.lists.push(rules);
    if (Array.isArray(rules)) for (const rule of rules) this.#matcherId(rule.matcher);
    else this.#matcherId(rules.matcher);
    return id;
  }

  build(): PrincipalTable {
    return new PrincipalTable(this);
  }

  #matcherId(matcher: Matcher): void {
    if (!this.matchers.has(matcher)) this.matchers.set(matcher, this.matchers.size);
  }

  #principalId(principal: string): number {
    let id = this.principalIds.get(principal);
    if (id === undefined) this.principalIds.set(principal, (id = this.principalIds.size + 1));
    return id;
  }
}
