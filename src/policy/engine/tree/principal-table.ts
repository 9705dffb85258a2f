/**
 * The short candidate lists of every bucket, keyed by (bucket, source principal), in one
 * open-addressing hash table of Int32Arrays. A JS object graph (bucket → Map → array →
 * rule → matcher) costs a cache and TLB miss per hop once a large tree no longer fits in
 * cache; here a lookup reads one table line and one run of packed candidates, and the
 * matchers they name are the shared ones (SharedMatchers), which stay warm.
 */
import type { Matcher } from '../matchers/matcher.js';
import type { Accumulator } from './accumulator.js';
import type { CompiledRule, Slot } from './compiled-rule.js';

/** The principal id of the lists that hold rules for any principal. */
export const ANY_PRINCIPAL = 0;

/** Per candidate: ordinal, matcher id, slot | residual flag, policy rank. */
const STRIDE = 4;
const RESIDUAL = 8;
const SLOT = 7;
/** Per table slot: bucket id + 1 (0: empty), principal id, offset of the list in `entries`. */
const SLOT_INTS = 3;

export class PrincipalTable {
  readonly #principals: ReadonlyMap<string, number>;
  readonly #slots: Int32Array;
  readonly #mask: number;
  /** Lists: a count, then `count` packed candidates. */
  readonly #entries: Int32Array;
  readonly #matchers: readonly Matcher[];

  constructor(builder: PrincipalTableBuilder) {
    this.#principals = builder.principals;
    const lists = builder.lists;
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(4, lists.length * 2)));
    this.#mask = capacity - 1;
    this.#slots = new Int32Array(capacity * SLOT_INTS);
    this.#entries = new Int32Array(lists.reduce((n, l) => n + 1 + l.list.length * STRIDE, 0));
    this.#matchers = Object.freeze([...builder.matchers.keys()]);
    let offset = 0;
    for (const { bucket, principal, list } of lists) {
      this.#insert(bucket, principal, offset);
      offset = this.#pack(list, offset, builder.matchers);
    }
    Object.freeze(this);
  }

  /** The id of a source principal some list is keyed by; -1 for any other (or none). */
  principalId(principal: string | undefined): number {
    return principal === undefined ? -1 : (this.#principals.get(principal) ?? -1);
  }

  /** Offers the list of (bucket, principal), if any, to the accumulator. */
  collect(bucket: number, principal: number, state: Accumulator): void {
    const slots = this.#slots;
    const key = bucket + 1;
    for (let i = hash(bucket, principal) & this.#mask; ; i = (i + 1) & this.#mask) {
      const at = i * SLOT_INTS;
      const stored = slots[at]!;
      if (stored === 0) return;
      if (stored === key && slots[at + 1] === principal) return this.#offer(slots[at + 2]!, state);
    }
  }

  #offer(offset: number, state: Accumulator): void {
    const entries = this.#entries;
    const end = offset + 1 + entries[offset]! * STRIDE;
    for (let at = offset + 1; at < end; at += STRIDE) {
      const flags = entries[at + 2]!;
      state.offer(entries[at]!, (flags & SLOT) as Slot, (flags & RESIDUAL) !== 0, entries[at + 3]!, this.#matchers[entries[at + 1]!]!);
    }
  }

  #insert(bucket: number, principal: number, offset: number): void {
    let i = hash(bucket, principal) & this.#mask;
    while (this.#slots[i * SLOT_INTS] !== 0) i = (i + 1) & this.#mask;
    const at = i * SLOT_INTS;
    this.#slots[at] = bucket + 1;
    this.#slots[at + 1] = principal;
    this.#slots[at + 2] = offset;
  }

  #pack(list: readonly CompiledRule[], offset: number, matchers: ReadonlyMap<Matcher, number>): number {
    const entries = this.#entries;
    entries[offset] = list.length;
    let at = offset + 1;
    for (const candidate of list) {
      entries[at] = candidate.ordinal;
      entries[at + 1] = matchers.get(candidate.matcher)!;
      entries[at + 2] = candidate.slot | (candidate.residual ? RESIDUAL : 0);
      entries[at + 3] = candidate.policyRank;
      at += STRIDE;
    }
    return at;
  }
}

function hash(bucket: number, principal: number): number {
  const h = Math.imul(bucket, 0x9e3779b1) ^ Math.imul(principal + 0x7f4a7c15, 0x85ebca77);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Collects the lists while buckets seal, then builds the table. */
export class PrincipalTableBuilder {
  readonly principals = new Map<string, number>();
  readonly matchers = new Map<Matcher, number>();
  readonly lists: { bucket: number; principal: number; list: readonly CompiledRule[] }[] = [];

  add(bucket: number, principal: string | undefined, list: readonly CompiledRule[]): void {
    this.lists.push({ bucket, principal: principal === undefined ? ANY_PRINCIPAL : this.#principalId(principal), list });
    for (const candidate of list) if (!this.matchers.has(candidate.matcher)) this.matchers.set(candidate.matcher, this.matchers.size);
  }

  build(): PrincipalTable {
    return new PrincipalTable(this);
  }

  #principalId(principal: string): number {
    let id = this.principals.get(principal);
    if (id === undefined) this.principals.set(principal, (id = this.principals.size + 1));
    return id;
  }
}
