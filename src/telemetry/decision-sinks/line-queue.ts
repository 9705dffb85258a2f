/**
 * The bounded buffer of one sink. Allows and denies wait in two FIFO rings that share one
 * capacity; batches take the older head of the two, so lines leave in the order they came.
 * When the buffer is full an allow is refused, and a deny evicts the oldest allow: a deny is
 * refused only when every buffered line is a deny. Every operation is O(1): it runs on the
 * Check path.
 */
import type { DropReason } from './stats.js';

export interface QueuedLine<L> {
  readonly line: L;
  readonly timeMs: number;
  /** Anything but an allow: kept over allows when the buffer is full. */
  readonly deny: boolean;
  /** Arrival order, to merge the two rings. */
  readonly seq: number;
}

export class LineQueue<L> {
  private readonly allows: Ring<QueuedLine<L>>;
  private readonly denies: Ring<QueuedLine<L>>;
  private seq = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrop: (reason: DropReason, count: number) => void,
  ) {
    this.allows = new Ring(capacity);
    this.denies = new Ring(capacity);
  }

  get size(): number {
    return this.allows.size + this.denies.size;
  }

  push(line: L, timeMs: number, deny: boolean): void {
    if (this.size >= this.capacity) {
      if (!deny || this.allows.size === 0) return this.onDrop('buffer_full', 1);
      this.allows.shift();
      this.onDrop('evicted_by_deny', 1);
    }
    const entry = { line, timeMs, deny, seq: this.seq++ };
    (deny ? this.denies : this.allows).push(entry);
  }

  /** The oldest line, without taking it. */
  peek(): QueuedLine<L> | undefined {
    const a = this.allows.peek();
    const d = this.denies.peek();
    if (a === undefined) return d;
    if (d === undefined) return a;
    return a.seq < d.seq ? a : d;
  }

  shift(): QueuedLine<L> | undefined {
    const head = this.peek();
    if (head !== undefined) (head.deny ? this.denies : this.allows).shift();
    return head;
  }

  /** Empties the buffer, counting what it held as dropped for `reason`. */
  discard(reason: DropReason): void {
    const count = this.size;
    this.allows.clear();
    this.denies.clear();
    if (count > 0) this.onDrop(reason, count);
  }
}

/** A fixed-capacity FIFO over one preallocated array. */
class Ring<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  size = 0;

  constructor(capacity: number) {
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  push(item: T): void {
    this.slots[(this.head + this.size) % this.slots.length] = item;
    this.size++;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.slots[this.head];
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.size--;
    return item;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}
