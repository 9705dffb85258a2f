/**
 * The paths `learn` writes: each observed path with its id segments turned into `{*}`, and a
 * record of every segment generalized and why, for the learned file's header. A segment is
 * generalized by, in order: an operator's template (`--path-template /v1/users/{*}`), its shape
 * (a number, UUID, token, prefixed id: telemetry's templating), or by being one of at least
 * `minDistinct` literal values seen at that position under one parent (`/v1/users/alice`,
 * `/v1/users/bob`, …).
 */
import { ANY_SEGMENT, identifierKind, type IdentifierKind } from '../telemetry/index.js';
import { compareText } from './compare-text.js';

const ANY_REST = '{**}';
/** Values quoted in the report for one generalization. */
const EXAMPLES = 3;

export interface GeneralizeOptions {
  /** Distinct literal values at one position under one parent that make it `{*}`; 0: never. */
  readonly minDistinct: number;
  /** Operator templates, e.g. `/v1/users/{*}`, `/static/{**}`; applied to paths they prefix. */
  readonly templates: readonly string[];
}

/** One generalized position: `service` `/v1/users/{*}` (the path up to it) and why. */
export interface Generalization {
  readonly service: string;
  readonly template: string;
  readonly reason: string;
  /** Distinct values generalized there. */
  readonly values: number;
  readonly examples: readonly string[];
}

export interface GeneralizedPaths {
  /** The template `learn` writes for a path of a service (the path itself when nothing applied). */
  templateOf(service: string, path: string): string;
  readonly generalizations: readonly Generalization[];
}

interface Segments {
  readonly raw: readonly string[];
  readonly out: string[];
}

/** `paths`: the distinct observed paths of each service. */
export function generalizePaths(paths: ReadonlyMap<string, ReadonlySet<string>>, options: GeneralizeOptions): GeneralizedPaths {
  const templates = new Map<string, Map<string, string>>();
  const report = new Report();
  for (const [service, own] of paths) {
    const segments = [...own].map((path): Segments => ({ raw: path.split('/'), out: path.split('/') }));
    const marks: { s: Segments; at: number; reason: string }[] = [];
    const markOf = (s: Segments): Mark => (at, reason) => marks.push({ s, at, reason });
    for (const s of segments) applyTemplates(s, options.templates, markOf(s));
    for (const s of segments) applyShapes(s, markOf(s));
    if (options.minDistinct > 0) applyDistinct(segments, options.minDistinct, (s, at, reason) => markOf(s)(at, reason));
    // Reported once every position is settled, so each is named by its final template.
    for (const { s, at, reason } of marks) report.add(service, s, at, reason);
    templates.set(service, new Map(segments.map((s) => [s.raw.join('/'), s.out.join('/')])));
  }
  return { templateOf: (service, path) => templates.get(service)?.get(path) ?? path, generalizations: report.list() };
}

type Mark = (at: number, reason: string) => void;

function applyTemplates(s: Segments, templates: readonly string[], mark: Mark): void {
  for (const template of templates) {
    const parts = template.split('/');
    const rest = parts[parts.length - 1] === ANY_REST;
    const fixed = rest ? parts.slice(0, -1) : parts;
    if (s.raw.length < fixed.length + (rest ? 1 : 0)) continue;
    if (!fixed.every((part, i) => part === ANY_SEGMENT ? s.raw[i] !== '' : part === s.raw[i])) continue;
    fixed.forEach((part, i) => part === ANY_SEGMENT && s.out[i] !== ANY_SEGMENT && generalize(s, i, `--path-template ${template}`, mark));
    if (rest) {
      s.out.splice(fixed.length, s.out.length - fixed.length, ANY_REST);
      mark(fixed.length, `--path-template ${template}`);
    }
  }
}

const SHAPES: Readonly<Record<IdentifierKind, string>> = {
  number: 'numbers',
  uuid: 'UUIDs',
  hex: 'hex ids',
  'opaque token': 'opaque tokens',
  'prefixed id': 'prefixed ids',
};

function applyShapes(s: Segments, mark: Mark): void {
  s.out.forEach((segment, i) => {
    const kind = segment === s.raw[i] ? identifierKind(segment) : undefined;
    if (kind !== undefined) generalize(s, i, SHAPES[kind], mark);
  });
}

/**
 * The deepest position that qualifies first, then again, until none does: ids sit below the
 * collections that name them, and a parent generalized groups its children for the next round
 * (`/v1/users/{*}/orders/…`). A value followed by a `{*}` in some path names a collection
 * (`charges` in `/v1/charges/{*}`), not an id: it is not counted, so `/v1/{*}` is not learned
 * from a handful of routes.
 */
function applyDistinct(all: readonly Segments[], minDistinct: number, mark: (s: Segments, at: number, reason: string) => void): void {
  for (let group = qualifyingGroup(all, minDistinct); group !== undefined; group = qualifyingGroup(all, minDistinct)) {
    const reason = `${group.distinct} distinct values under ${group.parent}/ (--min-distinct ${minDistinct})`;
    for (const s of group.children) generalize(s, group.at, reason, (i, why) => mark(s, i, why));
  }
}

interface Group {
  readonly at: number;
  readonly parent: string;
  readonly children: readonly Segments[];
  readonly distinct: number;
}

function qualifyingGroup(all: readonly Segments[], minDistinct: number): Group | undefined {
  const depth = Math.max(0, ...all.map((s) => s.out.length));
  for (let at = depth - 1; at >= 1; at--) {
    const byParent = new Map<string, Segments[]>();
    const collections = new Set<string>();
    for (const s of all.filter((s) => isLiteralAt(s, at))) {
      const parent = s.out.slice(0, at).join('/');
      byParent.set(parent, [...(byParent.get(parent) ?? []), s]);
      const next = s.out[at + 1];
      if (next === ANY_SEGMENT || next === ANY_REST) collections.add(`${parent}/${s.raw[at]}`);
    }
    for (const [parent, candidates] of byParent) {
      const children = candidates.filter((s) => !collections.has(`${parent}/${s.raw[at]}`));
      const distinct = new Set(children.map((s) => s.raw[at])).size;
      if (distinct >= minDistinct) return { at, parent, children, distinct };
    }
  }
  return undefined;
}

function isLiteralAt(s: Segments, at: number): boolean {
  return at < s.out.length && s.raw[at] !== '' && s.out[at] === s.raw[at] && !s.out.slice(0, at + 1).includes(ANY_REST);
}

function generalize(s: Segments, at: number, reason: string, mark: Mark): void {
  s.out[at] = ANY_SEGMENT;
  mark(at, reason);
}

/** Generalizations grouped by service, the template up to the position, and the reason. */
class Report {
  readonly #entries = new Map<string, { service: string; template: string; reason: string; values: Set<string> }>();

  add(service: string, s: Segments, at: number, reason: string): void {
    const template = s.out.slice(0, at + 1).join('/');
    const key = [service, template, reason].join('\u0000');
    const entry = this.#entries.get(key) ?? { service, template, reason, values: new Set<string>() };
    entry.values.add(s.out[at] === ANY_REST ? s.raw.slice(at).join('/') : s.raw[at]!);
    this.#entries.set(key, entry);
  }

  list(): Generalization[] {
    return [...this.#entries.values()]
      .map(({ service, template, reason, values }) => {
        const sorted = [...values].sort(compareText);
        return { service, template, reason, values: sorted.length, examples: sorted.slice(0, EXAMPLES) };
      })
      .sort((a, b) => compareText(a.service, b.service) || compareText(a.template, b.template) || compareText(a.reason, b.reason));
  }
}
