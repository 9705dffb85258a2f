/**
 * A small strict reader for the DOT subset the renderer writes (and a little more):
 * `digraph ID { stmt* }` with attribute, node, edge and `ID=ID` statements, quoted or bare
 * IDs. Anything else throws, so a test that reads DOT fails on malformed output.
 */

export interface DotGraph {
  readonly name: string;
  readonly nodes: Map<string, Record<string, string>>;
  readonly edges: { from: string; to: string; attributes: Record<string, string> }[];
}

type Token = { kind: 'id'; value: string } | { kind: 'punct'; value: string };

export function readDot(text: string): DotGraph {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const next = (): Token => {
    const token = tokens[at++];
    if (token === undefined) throw new Error('unexpected end of DOT');
    return token;
  };
  const expectPunct = (value: string): void => {
    const token = next();
    if (token.kind !== 'punct' || token.value !== value) throw new Error(`expected "${value}", got ${JSON.stringify(token)}`);
  };
  const id = (): string => {
    const token = next();
    if (token.kind !== 'id') throw new Error(`expected an ID, got "${token.value}"`);
    return token.value;
  };
  const attributes = (): Record<string, string> => {
    const out: Record<string, string> = {};
    if (peek()?.value !== '[' || peek()?.kind !== 'punct') return out;
    expectPunct('[');
    while (!(peek()?.kind === 'punct' && peek()?.value === ']')) {
      const key = id();
      expectPunct('=');
      out[key] = id();
      if (peek()?.kind === 'punct' && (peek()?.value === ',' || peek()?.value === ';')) next();
    }
    expectPunct(']');
    return out;
  };
  const keyword = id();
  if (keyword !== 'digraph') throw new Error(`expected digraph, got ${keyword}`);
  const graph: DotGraph = { name: id(), nodes: new Map(), edges: [] };
  expectPunct('{');
  while (!(peek()?.kind === 'punct' && peek()?.value === '}')) {
    const first = id();
    if (peek()?.kind === 'punct' && peek()?.value === '=') {
      next();
      id();
    } else if (peek()?.kind === 'punct' && peek()?.value === '->') {
      next();
      const to = id();
      graph.edges.push({ from: first, to, attributes: attributes() });
    } else if (['graph', 'node', 'edge'].includes(first)) {
      attributes();
    } else {
      graph.nodes.set(first, attributes());
    }
    expectPunct(';');
  }
  expectPunct('}');
  if (at !== tokens.length) throw new Error('text after the closing brace');
  return graph;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (text.startsWith('->', i)) (tokens.push({ kind: 'punct', value: '->' }), (i += 2));
    else if ('{}[]=;,'.includes(c)) (tokens.push({ kind: 'punct', value: c }), i++);
    else if (c === '"') i = quoted(text, i, tokens);
    else {
      const bare = /^[A-Za-z_][A-Za-z0-9_]*|^-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)/.exec(text.slice(i));
      if (bare === null) throw new Error(`unexpected character ${JSON.stringify(c)} at offset ${i}`);
      tokens.push({ kind: 'id', value: bare[0] });
      i += bare[0].length;
    }
  }
  return tokens;
}

/** A quoted ID: `\"` is a quote, `\\` a backslash; other escapes (like `\n`) are kept as written. */
function quoted(text: string, start: number, tokens: Token[]): number {
  let value = '';
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
    } else if (text[i] === '\n') {
      throw new Error('raw line break inside a quoted ID');
    } else {
      value += text[i++];
    }
  }
  if (i >= text.length) throw new Error('unterminated quoted ID');
  tokens.push({ kind: 'id', value });
  return i + 1;
}
