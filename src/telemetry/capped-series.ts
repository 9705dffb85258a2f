/**
 * Admission control for label values that are not from a fixed set (policy ids, flow
 * endpoints): the first `max` distinct keys get their own series, the rest share `other`.
 */

export const OTHER = 'other';
/** Longer label values are cut; they only come from misconfiguration or hostile traffic. */
export const MAX_LABEL_LENGTH = 128;

export class SeriesCap {
  readonly #max: number;
  readonly #admitted = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  /** True when `key` has, or may now take, a series of its own. */
  admit(key: string): boolean {
    if (this.#admitted.has(key)) return true;
    if (this.#admitted.size >= this.#max) return false;
    this.#admitted.add(key);
    return true;
  }
}

export function clipLabel(value: string): string {
  return value.length <= MAX_LABEL_LENGTH ? value : value.slice(0, MAX_LABEL_LENGTH);
}
