/**
 * The house stays as drawn (docs/architecture.md): every import in src/ goes down the
 * layers, never up or sideways past what a folder may know, and into another folder only
 * through that folder's index.ts (its public surface); no module takes part in an import
 * cycle, and the layers that must not know transports import none.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

/** What each top-level folder of src/ may import from the others (itself always). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  domain: [],
  lib: [],
  policy: ['domain', 'lib'],
  identity: ['domain', 'lib'],
  envoy: ['domain', 'lib'],
  authz: ['domain', 'lib', 'policy', 'identity'],
  check: ['domain', 'lib', 'envoy'],
  telemetry: ['domain', 'lib', 'identity', 'check'],
  config: ['domain', 'lib', 'policy', 'identity', 'check'],
  workflow: ['domain', 'lib', 'policy', 'identity', 'envoy', 'telemetry'],
  server: ['domain', 'lib', 'policy', 'identity', 'envoy', 'authz', 'check', 'telemetry', 'config'],
  cli: ['domain', 'lib', 'policy', 'identity', 'envoy', 'authz', 'check', 'telemetry', 'config', 'workflow', 'server'],
};

/** Packages and built-ins a layer must not touch: deciding knows nothing of the wire. */
const FORBIDDEN_PACKAGES: Readonly<Record<string, RegExp>> = {
  domain: /^(?!node:)/,
  policy: /^(@grpc\/|node:http2$|node:net$|protobufjs)/,
  identity: /^(@grpc\/|node:http2$|protobufjs)/,
  authz: /^(@grpc\/|node:http2$|node:net$|protobufjs)/,
  check: /^(@grpc\/|node:http2$|node:net$)/,
};

/**
 * The one exception, a gRPC client by nature: the SPIFFE Workload API's bundle streams. Its
 * messages stop at its own folder (plain bundles leave it), so nothing that decides sees gRPC.
 */
const GRPC_CLIENTS: ReadonlySet<string> = new Set(['identity/workload-api/bundle-streams.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  readonly from: string;
  readonly specifier: string;
  /** `import type` / `export type`: erased at build, so no part of a runtime cycle. */
  readonly typeOnly: boolean;
  /** The file it names, for a relative import. */
  readonly target?: string;
}

const IMPORT = /^\s*(?:import|export)\s([^'"]*?)from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => {
    const specifier = (match[2] ?? match[3])!;
    const typeOnly = /^type\s/.test(match[1] ?? '');
    if (!specifier.startsWith('.')) return { from: file, specifier, typeOnly };
    return { from: file, specifier, typeOnly, target: resolve(dirname(file), specifier).replace(/\.js$/, '.ts') };
  });
}

const layerOf = (file: string) => relative(SRC, file).split(sep)[0]!;
const surfaceOf = (layer: string) => join(SRC, layer, 'index.ts');
const FILES = sourceFiles(SRC);
const IMPORTS = FILES.flatMap(importsOf);

describe('the layers of src/', () => {
  it('are all known to the rules', () => {
    const unknown = [...new Set(FILES.map(layerOf))].filter((layer) => !(layer in MAY_IMPORT) && !layer.endsWith('.ts'));
    expect(unknown).toEqual([]);
  });

  it('import only the layers below them', () => {
    const upward = IMPORTS.filter(({ from, target }) => {
      if (target === undefined) return false;
      const [source, destination] = [layerOf(from), layerOf(target)];
      return source !== destination && !(MAY_IMPORT[source] ?? []).includes(destination);
    }).map(({ from, specifier }) => `${relative(SRC, from)} → ${specifier}`);
    expect(upward).toEqual([]);
  });

  it('reach into another folder only through its index.ts, the public surface', () => {
    expect(pastTheSurface(IMPORTS)).toEqual([]);
  });

  it("never import their own folder's index.ts, which re-exports them (a cycle in waiting)", () => {
    const inward = IMPORTS.filter(({ from, target }) => target === surfaceOf(layerOf(from)) && from !== target)
      .map(({ from, specifier }) => `${relative(SRC, from)} → ${specifier}`);
    expect(inward).toEqual([]);
  });

  it('keep transports and wire codecs out of the layers that decide', () => {
    const leaks = IMPORTS.filter(({ from, target, specifier }) => target === undefined && FORBIDDEN_PACKAGES[layerOf(from)]?.test(specifier))
      .filter(({ from, specifier }) => !(GRPC_CLIENTS.has(relative(SRC, from).split(sep).join('/')) && specifier.startsWith('@grpc/')))
      .map(({ from, specifier }) => `${relative(SRC, from)} → ${specifier}`);
    expect(leaks).toEqual([]);
  });

  it('form no import cycle at run time', () => {
    const edges = new Map<string, string[]>(FILES.map((file) => [file, []]));
    for (const { from, target, typeOnly } of IMPORTS) if (target !== undefined && !typeOnly && edges.has(target)) edges.get(from)!.push(target);
    expect(cyclesIn(edges).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' → '))).toEqual([]);
  });
});

describe('the rules themselves', () => {
  it('catch an upward import and a cycle', () => {
    expect(cyclesIn(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toHaveLength(1);
    expect(cyclesIn(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
    expect(MAY_IMPORT['policy']).not.toContain('envoy');
    expect(MAY_IMPORT['domain']).toEqual([]);
    const into = (target: string): Import => ({ from: join(SRC, 'authz', 'authorizer.ts'), specifier: target, typeOnly: true, target: join(SRC, target) });
    expect(pastTheSurface([into('policy/model.ts')])).toHaveLength(1);
    expect(pastTheSurface([into('policy/index.ts'), into('authz/outcome.ts')])).toEqual([]);
  });
});

/** Imports that cross into another folder past its index.ts (type-only ones too: the surface names the types). */
function pastTheSurface(imports: readonly Import[]): string[] {
  return imports
    .filter(({ from, target }) => target !== undefined && layerOf(from) !== layerOf(target) && target !== surfaceOf(layerOf(target)))
    .map(({ from, specifier }) => `${relative(SRC, from)} → ${specifier}`);
}

/** One cycle per strongly connected group of more than one file (or a file importing itself): Tarjan's algorithm. */
function cyclesIn(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(group.reverse());
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return cycles;
}
