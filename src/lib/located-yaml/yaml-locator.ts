/**
 * Finds where a field sits in the YAML text, so an error points at the offending value
 * (or at the key, when the key itself is the problem).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { FieldPath } from './field-path.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** `value`: the node at the path; `key`: the key of its map entry (for unknown fields). */
export type Anchor = 'value' | 'key';

export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The deepest existing node on the path: a missing field points at its parent. */
  locate(path: FieldPath, anchor: Anchor = 'value'): Position {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    for (const segment of path) {
      const next = this.child(node, segment);
      if (next === undefined) break;
      [keyNode, node] = next;
    }
    const target = anchor === 'key' && keyNode !== undefined ? keyNode : node;
    return this.position(target) ?? this.position(this.doc.contents) ?? { line: 1, column: 1 };
  }

  position(node: unknown): Position | undefined {
    const range = (node as Node | null)?.range;
    if (range === undefined || range === null) return undefined;
    const { line, col } = this.lines.linePos(range[0]);
    return { line, column: col };
  }

  private child(node: unknown, segment: string | number): [unknown, unknown] | undefined {
    const resolved = isAlias(node) ? node.resolve(this.doc) : node;
    if (isSeq(resolved) && typeof segment === 'number') {
      const item: unknown = resolved.items[segment];
      return item === undefined ? undefined : [undefined, item];
    }
    if (!isMap(resolved)) return undefined;
    for (const pair of resolved.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(key) === String(segment)) return [pair.key, pair.value ?? pair.key];
    }
    return undefined;
  }
}
