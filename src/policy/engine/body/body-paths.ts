/**
 * The JSON body paths a policy set reads (`request.body.json[a][b]`), as a trie: a scan of the
 * body follows it to learn which objects on those paths repeat a member name, and a path's
 * node ids say which of those repeats concern it.
 */

/** One path read by a condition; `nodes[i]` is the trie node of `segments[i]`. */
export interface BodyPath {
  readonly segments: readonly string[];
  readonly nodes: readonly number[];
}

export interface BodyPathNode {
  readonly id: number;
  /** Member names read below this node, and their nodes, in the same order. */
  readonly names: readonly string[];
  readonly children: readonly BodyPathNode[];
  /** `names` case-folded (foldCase), and the lengths of those. */
  readonly folded: readonly string[];
  readonly foldedLengths: ReadonlySet<number>;
  /** For each name, the first index whose folded name is the same: names that one body member may stand for. */
  readonly classes: readonly number[];
}

interface MutableNode extends BodyPathNode {
  readonly names: string[];
  readonly children: MutableNode[];
  readonly folded: string[];
  readonly foldedLengths: Set<number>;
  readonly classes: number[];
}

/**
 * A name as a case-insensitive decoder compares it (Go's encoding/json binds `AMOUNT` to a field
 * `amount`): upper then lower, so that `ſ`, `K` and their kin fold as they do there.
 */
export function foldCase(name: string): string {
  return name.toUpperCase().toLowerCase();
}

/** Grows while policies compile; read only once the compile is done. */
export class BodyPaths {
  readonly root: BodyPathNode;
  readonly #root: MutableNode;
  readonly #paths = new Map<string, BodyPath>();
  #nodes = 1;

  constructor() {
    this.#root = emptyNode(0);
    this.root = this.#root;
  }

  /** Nodes in the trie, the root included. */
  get size(): number {
    return this.#nodes;
  }

  /** The path of `segments`, one object per distinct path. */
  add(segments: readonly string[]): BodyPath {
    const key = JSON.stringify(segments);
    let path = this.#paths.get(key);
    if (path === undefined) this.#paths.set(key, (path = this.#insert(segments)));
    return path;
  }

  #insert(segments: readonly string[]): BodyPath {
    const nodes: number[] = [];
    let node = this.#root;
    for (const name of segments) {
      let at = node.names.indexOf(name);
      if (at === -1) {
        at = node.names.push(name) - 1;
        node.children.push(emptyNode(this.#nodes++));
        const folded = foldCase(name);
        node.folded.push(folded);
        node.foldedLengths.add(folded.length);
        node.classes.push(node.folded.indexOf(folded));
      }
      node = node.children[at]!;
      nodes.push(node.id);
    }
    return Object.freeze({ segments: Object.freeze([...segments]), nodes: Object.freeze(nodes) });
  }
}

function emptyNode(id: number): MutableNode {
  return { id, names: [], children: [], folded: [], foldedLengths: new Set(), classes: [] };
}

/** The trie of exactly these paths (the reference evaluator's: one path at a time). */
export function bodyPathsOf(paths: readonly (readonly string[])[]): BodyPaths {
  const trie = new BodyPaths();
  for (const path of paths) trie.add(path);
  return trie;
}
