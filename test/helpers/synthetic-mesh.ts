/**
 * A synthetic service mesh for end-to-end tests of the microsegmentation workflow: services
 * with SPIFFE identities, the legitimate flows between them (source → destination, method,
 * path template) and lateral-movement attempts by one compromised service. Deterministic:
 * the same seed gives the same mesh, and every request a test sends is derived from it.
 */

export const TRUST_DOMAIN = 'mesh.example';

export interface MeshService {
  readonly name: string;
  readonly namespace: string;
  readonly spiffeId: string;
}

/** A route of a service's API: literal segments, and id placeholders of one kind. */
type Segment = string | { readonly id: 'number' | 'uuid' };

interface Route {
  readonly segments: readonly Segment[];
  readonly methods: readonly string[];
}

export interface MeshFlow {
  readonly source: MeshService;
  readonly destination: MeshService;
  readonly method: string;
  /** The path as `meshwarden learn` and `diff` write it: every id segment is `{*}`. */
  readonly template: string;
  readonly route: readonly Segment[];
}

export interface MeshRequest {
  readonly flow: MeshFlow;
  readonly principal: string;
  readonly service: string;
  readonly method: string;
  readonly path: string;
}

export interface SyntheticMesh {
  readonly services: readonly MeshService[];
  readonly legitimate: readonly MeshFlow[];
  readonly compromised: MeshService;
  readonly lateral: readonly MeshFlow[];
  /** Each legitimate flow `times` times, ids drawn afresh per request (`round` varies them). */
  legitimateRequests(times: number, round: number): MeshRequest[];
  /** Each lateral attempt once. */
  lateralRequests(round: number): MeshRequest[];
}

/** Tiers, callers first: a service only calls services listed after it, as in a layered mesh. */
const SERVICES: readonly (readonly [string, readonly string[]])[] = [
  ['edge', ['web-gateway', 'mobile-bff', 'partner-api']],
  ['shop', ['storefront', 'cart', 'checkout', 'orders', 'catalog', 'search', 'reviews', 'recommendations', 'pricing', 'promotions', 'wishlist']],
  ['payments', ['payments', 'fraud', 'refunds', 'invoices', 'ledger']],
  ['identity', ['accounts', 'profiles', 'sessions', 'auth']],
  ['logistics', ['inventory', 'shipping', 'returns', 'warehouse']],
  ['comms', ['notifications', 'email', 'sms']],
  ['data', ['analytics', 'reporting', 'audit']],
  ['ops', ['feature-flags', 'config']],
];

const RESOURCES = ['items', 'records', 'entries', 'jobs', 'events', 'accounts', 'batches', 'tickets'];
const SUBRESOURCES = ['history', 'status', 'notes', 'lines', 'links'];
const METHOD_SETS: readonly (readonly string[])[] = [['GET'], ['GET'], ['POST'], ['GET', 'PUT'], ['GET', 'POST'], ['DELETE'], ['PATCH']];
const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface MeshOptions {
  readonly seed?: number;
  readonly flows?: number;
  readonly lateralToNewDestinations?: number;
  readonly lateralNewPaths?: number;
  readonly lateralNewMethods?: number;
}

export function syntheticMesh(options: MeshOptions = {}): SyntheticMesh {
  const random = mulberry32(options.seed ?? 20240611);
  const services = SERVICES.flatMap(([namespace, names]) => names.map((name) => ({ name, namespace, spiffeId: `spiffe://${TRUST_DOMAIN}/ns/${namespace}/sa/${name}` })));
  const apis = new Map(services.map((s) => [s.name, apiOf(s, random)]));
  const legitimate = legitimateFlows(services, apis, options.flows ?? 120, random);
  const compromised = busiestCaller(services, legitimate);
  const lateral = lateralFlows(compromised, services, apis, legitimate, options, random);
  const requests = (flows: readonly MeshFlow[], times: number, round: number): MeshRequest[] => {
    const ids = mulberry32(0x5eed + round);
    return flows.flatMap((flow) =>
      Array.from({ length: times }, () => ({
        flow,
        principal: flow.source.spiffeId,
        service: flow.destination.name,
        method: flow.method,
        path: concretePath(flow.route, ids),
      })),
    );
  };
  return {
    services,
    legitimate,
    compromised,
    lateral,
    legitimateRequests: (times, round) => requests(legitimate, times, round),
    lateralRequests: (round) => requests(lateral, 1, 1000 + round),
  };
}

/** `source destination METHOD template`, the key flows are compared by. */
export function flowKey(flow: { source: string; destination: string; method: string; template: string }): string {
  return `${flow.source} ${flow.destination} ${flow.method} ${flow.template}`;
}

export function meshFlowKey(flow: MeshFlow): string {
  return flowKey({ source: flow.source.spiffeId, destination: flow.destination.name, method: flow.method, template: flow.template });
}

/** 3 or 4 routes per service, shaped so that no route's template matches another route's paths. */
function apiOf(service: MeshService, random: () => number): Route[] {
  const resource = pick(RESOURCES, random);
  const sub = pick(SUBRESOURCES, random);
  const base = ['api', service.name.replace(/-/g, ''), resource];
  const shapes: Segment[][] = [
    base,
    [...base, { id: 'number' }],
    [...base, { id: 'uuid' }, sub],
    [...base, { id: 'number' }, sub, { id: 'uuid' }],
    ['internal', service.name.replace(/-/g, ''), 'reindex'],
  ];
  const count = 3 + Math.floor(random() * 3);
  return shapes.slice(0, count).map((segments) => ({ segments, methods: pick(METHOD_SETS, random) }));
}

function legitimateFlows(services: readonly MeshService[], apis: Map<string, Route[]>, wanted: number, random: () => number): MeshFlow[] {
  const flows = new Map<string, MeshFlow>();
  // Every service calls at least one service further down (the last ones are only called).
  const add = (source: MeshService, destination: MeshService) => {
    const route = pick(apis.get(destination.name)!, random);
    const method = pick(route.methods, random);
    const flow = { source, destination, method, template: templateOf(route.segments), route: route.segments };
    flows.set(meshFlowKey(flow), flow);
  };
  services.forEach((source, index) => {
    if (index < services.length - 1) add(source, services[index + 1 + Math.floor(random() * Math.min(6, services.length - index - 1))]!);
  });
  for (let tries = 0; flows.size < wanted && tries < wanted * 50; tries++) {
    const from = Math.floor(random() * (services.length - 1));
    const to = from + 1 + Math.floor(random() * (services.length - from - 1));
    add(services[from]!, services[to]!);
  }
  return [...flows.values()].sort((a, b) => (meshFlowKey(a) < meshFlowKey(b) ? -1 : 1));
}

function busiestCaller(services: readonly MeshService[], flows: readonly MeshFlow[]): MeshService {
  const destinations = (s: MeshService) => new Set(flows.filter((f) => f.source === s).map((f) => f.destination.name)).size;
  return [...services].sort((a, b) => destinations(b) - destinations(a) || (a.name < b.name ? -1 : 1))[0]!;
}

/**
 * What a compromised workload tries: services it never called (any route), and services it
 * does call on routes or methods it never used there. Each attempt is checked against the
 * caller's own legitimate flows, so that none of them is legitimate by another name.
 */
function lateralFlows(
  compromised: MeshService,
  services: readonly MeshService[],
  apis: Map<string, Route[]>,
  legitimate: readonly MeshFlow[],
  options: MeshOptions,
  random: () => number,
): MeshFlow[] {
  const own = legitimate.filter((f) => f.source === compromised);
  const known = new Set(own.map((f) => f.destination.name));
  const attempts = new Map<string, MeshFlow>();
  const attempt = (destination: MeshService, route: Route, method: string) => {
    const template = templateOf(route.segments);
    if (own.some((f) => f.destination === destination && f.method === method && templateMatches(f.template, template))) return false;
    const flow = { source: compromised, destination, method, template, route: route.segments };
    const key = meshFlowKey(flow);
    if (attempts.has(key)) return false;
    attempts.set(key, flow);
    return true;
  };
  const strangers = services.filter((s) => s !== compromised && !known.has(s.name));
  const familiar = services.filter((s) => known.has(s.name));
  let left = options.lateralToNewDestinations ?? 12;
  for (let i = 0; left > 0 && i < 1000; i++) {
    const destination = pick(strangers, random);
    const route = pick(apis.get(destination.name)!, random);
    if (attempt(destination, route, pick(route.methods, random))) left--;
  }
  left = options.lateralNewPaths ?? 5;
  for (let i = 0; left > 0 && i < 1000; i++) {
    const destination = pick(familiar, random);
    const route = pick(apis.get(destination.name)!, random);
    if (own.some((f) => f.destination === destination && f.template === templateOf(route.segments))) continue;
    if (attempt(destination, route, pick(route.methods, random))) left--;
  }
  left = options.lateralNewMethods ?? 5;
  for (let i = 0; left > 0 && i < 1000; i++) {
    const used = pick(own, random);
    const route = { segments: used.route, methods: [] };
    if (attempt(used.destination, route, pick(ALL_METHODS, random))) left--;
  }
  return [...attempts.values()].sort((a, b) => (meshFlowKey(a) < meshFlowKey(b) ? -1 : 1));
}

function templateOf(segments: readonly Segment[]): string {
  return `/${segments.map((s) => (typeof s === 'string' ? s : '{*}')).join('/')}`;
}

/** Does a learned template (`{*}` = one segment) admit every path of `template`? */
function templateMatches(learned: string, template: string): boolean {
  const a = learned.split('/');
  const b = template.split('/');
  return a.length === b.length && a.every((segment, i) => segment === '{*}' || segment === b[i]);
}

function concretePath(segments: readonly Segment[], random: () => number): string {
  return `/${segments.map((s) => (typeof s === 'string' ? s : s.id === 'number' ? String(1 + Math.floor(random() * 999_999)) : uuid(random))).join('/')}`;
}

function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function pick<T>(items: readonly T[], random: () => number): T {
  if (items.length === 0) throw new Error('synthetic mesh: nothing to pick from');
  return items[Math.floor(random() * items.length)]!;
}

/** A small seeded PRNG (mulberry32): deterministic across runs and platforms. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
