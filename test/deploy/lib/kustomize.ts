/**
 * A small kustomize, enough to build our own kustomizations without the binary and to
 * catch what breaks `kubectl apply -k`: missing resource, patch and generator files,
 * files outside the kustomization root, patches whose target does not exist, unknown
 * kustomization keys. Strategic-merge patches are applied naively (maps merge, lists of
 * named items merge by name, other lists are replaced), which is what our patches need.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export type Resource = Record<string, any>;

export interface Build {
  readonly resources: Resource[];
  readonly problems: string[];
  /** Generated ConfigMaps: name as written → name with hash suffix. */
  readonly generated: Map<string, string>;
}

const KNOWN_KEYS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'labels',
  'resources',
  'patches',
  'configMapGenerator',
  'images',
  'generatorOptions',
]);
const CLUSTER_SCOPED = new Set(['Namespace']);

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readYamlDocuments(file: string): Resource[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Resource)
    .filter((d) => d !== null && d !== undefined);
}

/** Kustomize's load restrictor: files must be inside the kustomization's root. */
function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function strategicMerge(target: any, patch: any): any {
  if (Array.isArray(target) && Array.isArray(patch)) {
    const named = (items: any[]): boolean => items.every((i) => isObject(i) && typeof i['name'] === 'string');
    if (!named(target) || !named(patch)) return structuredClone(patch);
    const merged = target.map((item) => {
      const match = patch.find((p) => p.name === item.name);
      return match ? strategicMerge(item, match) : item;
    });
    return [...merged, ...patch.filter((p) => !target.some((t) => t.name === p.name))];
  }
  if (isObject(target) && isObject(patch)) {
    const out: Record<string, any> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      // null deletes the key, as in kustomize's strategic merge (a probe's grpc handler for httpGet)
      if (value === null) {
        delete out[key];
        continue;
      }
      // A patch that swaps one volume source for another (emptyDir → configMap, ...)
      // replaces the whole volume, as kustomize's retainKeys strategy does for volumes.
      out[key] = key in target ? strategicMerge(target[key], value) : structuredClone(value);
    }
    if (isVolume(patch)) for (const k of Object.keys(target)) if (!(k in patch)) delete out[k];
    return out;
  }
  return structuredClone(patch);
}

const VOLUME_SOURCES = ['configMap', 'secret', 'emptyDir', 'csi', 'projected', 'persistentVolumeClaim', 'hostPath'];
function isVolume(o: Record<string, any>): boolean {
  return typeof o['name'] === 'string' && VOLUME_SOURCES.some((k) => k in o);
}

function sameTarget(a: Resource, b: Resource): boolean {
  return (
    a['kind'] === b['kind'] &&
    a['metadata']?.name === b['metadata']?.name &&
    (b['metadata']?.namespace === undefined || a['metadata']?.namespace === b['metadata']?.namespace)
  );
}

function hashOf(data: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 10);
}

function generate(root: string, gen: Record<string, any>, namespace: string | undefined, problems: string[]): Resource | undefined {
  const data: Record<string, string> = {};
  for (const entry of (gen['files'] as string[] | undefined) ?? []) {
    const [key, file] = entry.includes('=') ? entry.split('=', 2) : [path.basename(entry), entry];
    const full = path.resolve(root, file!);
    if (!inside(root, full)) problems.push(`${root}: generator file ${file} is outside the kustomization root`);
    else if (!existsSync(full)) problems.push(`${root}: generator file ${file} does not exist`);
    else data[key!] = readFileSync(full, 'utf8');
  }
  if (Object.keys(data).length === 0) return undefined;
  const metadata: Record<string, any> = { name: String(gen['name']) };
  const ns = (gen['namespace'] as string | undefined) ?? namespace;
  if (ns) metadata['namespace'] = ns;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
}

/** Rewrites configMap references of workloads to the hash-suffixed generated names. */
function renameReferences(resources: Resource[], generated: Map<string, string>): void {
  for (const r of resources) {
    const volumes = r['spec']?.template?.spec?.volumes as Resource[] | undefined;
    for (const v of volumes ?? []) {
      const renamed = v['configMap'] && generated.get(`${r['metadata']?.namespace}/${v['configMap'].name}`);
      if (renamed) v['configMap'].name = renamed;
    }
  }
}

function applyPatches(root: string, k: Record<string, any>, resources: Resource[], problems: string[]): Resource[] {
  let out = resources;
  for (const p of (k['patches'] as Record<string, any>[] | undefined) ?? []) {
    let docs: Resource[] = [];
    if (typeof p['path'] === 'string') {
      const file = path.resolve(root, p['path']);
      if (!inside(root, file) || !existsSync(file)) {
        problems.push(`${root}: patch ${p['path']} does not exist inside the kustomization`);
        continue;
      }
      docs = readYamlDocuments(file);
    } else if (typeof p['patch'] === 'string') {
      docs = [parse(p['patch']) as Resource];
    }
    for (const doc of docs) {
      const matches = out.filter((r) => sameTarget(r, doc));
      if (matches.length !== 1) {
        problems.push(`${root}: patch for ${doc['kind']}/${doc['metadata']?.name} matches ${matches.length} resources`);
        continue;
      }
      out = doc['$patch'] === 'delete' ? out.filter((r) => r !== matches[0]) : out.map((r) => (r === matches[0] ? strategicMerge(r, doc) : r));
    }
  }
  return out;
}

function setImages(k: Record<string, any>, resources: Resource[]): void {
  for (const image of (k['images'] as Record<string, any>[] | undefined) ?? []) {
    for (const r of resources) {
      for (const c of (r['spec']?.template?.spec?.containers as Resource[] | undefined) ?? []) {
        const [name] = String(c['image']).split(':');
        if (name === image['name']) c['image'] = `${image['newName'] ?? name}:${image['newTag']}`;
      }
    }
  }
}

function setMetadata(k: Record<string, any>, resources: Resource[]): void {
  for (const r of resources) {
    r['metadata'] ??= {};
    if (k['namespace'] && !CLUSTER_SCOPED.has(r['kind'])) r['metadata'].namespace = k['namespace'];
    for (const label of (k['labels'] as Record<string, any>[] | undefined) ?? []) {
      r['metadata'].labels = { ...(r['metadata'].labels ?? {}), ...label['pairs'] };
    }
  }
}

/** Builds the kustomization in `dir`, recursively through its bases. */
export function kustomize(dir: string): Build {
  const root = path.resolve(dir);
  const file = path.join(root, 'kustomization.yaml');
  if (!existsSync(file)) return { resources: [], problems: [`${dir}: no kustomization.yaml`], generated: new Map() };
  const k = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  const problems: string[] = [];
  for (const key of Object.keys(k)) if (!KNOWN_KEYS.has(key)) problems.push(`${dir}: unknown kustomization key ${key}`);
  if (k['apiVersion'] !== 'kustomize.config.k8s.io/v1beta1' || k['kind'] !== 'Kustomization') problems.push(`${dir}: not a Kustomization`);
  let resources: Resource[] = [];
  const generated = new Map<string, string>();
  for (const entry of (k['resources'] as string[] | undefined) ?? []) {
    const target = path.resolve(root, entry);
    if (!existsSync(target)) {
      problems.push(`${dir}: resource ${entry} does not exist`);
    } else if (statSync(target).isDirectory()) {
      const base = kustomize(target);
      resources.push(...base.resources);
      problems.push(...base.problems);
      // A ConfigMap generated without a namespace takes this kustomization's, as its references do.
      for (const [from, to] of base.generated) generated.set(from.startsWith('undefined/') && k['namespace'] ? `${k['namespace']}/${from.slice('undefined/'.length)}` : from, to);
    } else if (!inside(root, target)) {
      problems.push(`${dir}: resource file ${entry} is outside the kustomization root`);
    } else {
      resources.push(...readYamlDocuments(target));
    }
  }
  const own: Resource[] = [];
  for (const gen of (k['configMapGenerator'] as Record<string, any>[] | undefined) ?? []) {
    const cm = generate(root, gen, k['namespace'], problems);
    if (cm) own.push(cm);
  }
  resources = applyPatches(root, k, [...resources, ...own], problems);
  setMetadata(k, resources);
  setImages(k, resources);
  const suffix = k['generatorOptions']?.disableNameSuffixHash !== true;
  for (const cm of own) {
    const name = suffix ? `${cm['metadata'].name}-${hashOf(cm['data'])}` : cm['metadata'].name;
    generated.set(`${cm['metadata'].namespace}/${cm['metadata'].name}`, name);
    cm['metadata'].name = name;
  }
  renameReferences(resources, generated);
  return { resources, problems, generated };
}
