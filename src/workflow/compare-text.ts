/** Code-point order: the same bytes in, the same order out, whatever the locale (learned files, diffs, graphs). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
