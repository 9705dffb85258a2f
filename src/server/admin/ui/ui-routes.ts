/**
 * `/ui` (admin.ui): the live map's page and its API. Read-only: the page draws `/flows`; the
 * API answers a what-if (one request evaluated against the snapshot in service by the engine
 * that enforces, as `explain` does) and a node's reach. Both are rate-limited together, since
 * each costs the serving process's thread (a what-if traces every policy), and the what-if body is bounded.
 */
import { isIP } from 'node:net';
import { TokenBucket } from '../../../telemetry/index.js';
import type { PolicySnapshot } from '../../../policy/index.js';
import { nodeReach } from './node-reach.js';
import type { BodyRead } from './request-body.js';
import { loadStaticAssets, type StaticAsset } from './static-assets.js';
import type { UiAnalysis, UiAnswer } from './ui-analysis.js';

export interface UiReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface UiLimits {
  /** What-if and reach requests per second, on average, from all clients together. */
  readonly ratePerSecond: number;
  readonly burst: number;
  /** The largest what-if body read; more is refused 413. */
  readonly bodyBytes: number;
  /** The longest a what-if body may take to arrive, in milliseconds; slower is refused 408. */
  readonly bodyTimeoutMs: number;
  /**
   * What bounds what-ifs and reaches that take long, whatever the rate lets through: one that
   * held the serving thread `t` ms past `busyFreeMs` rests the API `(t − busyFreeMs) × (1 / busyShare − 1)` ms (429
   * meanwhile). Shorter ones the rate alone bounds (at 1 a second, a tenth of the thread).
   */
  readonly busyShare: number;
  readonly busyFreeMs: number;
}

/**
 * A what-if walks every policy for its reference trace (150-250 ms at 100,000 rules, on the
 * thread that answers Checks): one a second, bursts of 5, bounds how often. A count alone does
 * not bound the time: a workload's reach takes 0.4-2 s at 100,000 rules, so five in a burst held
 * Checks for seconds. The busy share does: after a 2 s reach, the API rests 16 s.
 */
export const DEFAULT_UI_LIMITS: UiLimits = Object.freeze({ ratePerSecond: 1, burst: 5, bodyBytes: 16 * 1024, bodyTimeoutMs: 5_000, busyShare: 0.1, busyFreeMs: 250 });

export interface AdminUiOptions {
  /** The snapshot in service now (undefined before the first load). */
  readonly snapshot: () => PolicySnapshot | undefined;
  readonly analysis?: UiAnalysis | undefined;
  readonly limits?: Partial<UiLimits>;
  /** Milliseconds; injectable so the rate limit is tested without waiting. */
  readonly now?: () => number;
  /** Where the page's files are; the package's `ui/` folder unless a test says otherwise. */
  readonly pageFolder?: string;
}

export interface UiRequest {
  readonly method: string;
  readonly url: URL;
  /** The Host header as sent. */
  readonly host: string | undefined;
  readonly contentType: string | undefined;
  /** Reads the body up to `limit` bytes arriving within `timeoutMs` (only the what-if asks). */
  readonly body: (limit: number, timeoutMs: number) => Promise<BodyRead>;
}

export interface AdminUi {
  handles(path: string): boolean;
  route(request: UiRequest): Promise<UiReply>;
}

/**
 * Scripts, styles and connections from this origin only, nothing inline. Cytoscape's own
 * stylesheet injection is pre-empted by the page (see ui/index.html), so no inline style is needed.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
});

const JSON_TYPE = 'application/json; charset=utf-8';
const WHAT_IF = '/ui/api/what-if';
const REACH = '/ui/api/reach';

export function createAdminUi(options: AdminUiOptions): AdminUi {
  const assets = loadStaticAssets(options.pageFolder);
  const limits = { ...DEFAULT_UI_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const bucket = new TokenBucket(limits.ratePerSecond, limits.burst, now);
  const api = { options, limits, bucket, now, rest: { untilMs: 0 } };
  return {
    handles: (path) => path === '/ui' || path.startsWith('/ui/'),
    route: async (request) => withPageHeaders(await routeUi(request, assets, api)),
  };
}

interface Api {
  readonly options: AdminUiOptions;
  readonly limits: UiLimits;
  readonly bucket: TokenBucket;
  readonly now: () => number;
  /** Until when the API rests after work that took the thread (busyShare). */
  readonly rest: { untilMs: number };
}

async function routeUi(request: UiRequest, assets: ReadonlyMap<string, StaticAsset>, api: Api): Promise<UiReply> {
  if (!addressedByAddress(request.host)) {
    return error(403, 'the live map answers requests addressed to an IP address or localhost only (a DNS name could be rebound to this port by any web page)');
  }
  const path = request.url.pathname;
  if (path === WHAT_IF) return request.method === 'POST' ? whatIf(request, api) : methodNotAllowed('POST');
  if (path === REACH) return isRead(request.method) ? reach(request, api) : methodNotAllowed('GET, HEAD');
  const asset = assets.get(path);
  if (asset === undefined) return error(404, `no such page: ${path}`);
  if (!isRead(request.method)) return methodNotAllowed('GET, HEAD');
  return { status: 200, contentType: asset.contentType, body: asset.body };
}

async function whatIf(request: UiRequest, api: Api): Promise<UiReply> {
  if (!isJson(request.contentType)) return error(415, 'the what-if takes a JSON request body (content-type: application/json)');
  const refused = admitted(api);
  if (refused !== undefined) return refused;
  const read = await request.body(api.limits.bodyBytes, api.limits.bodyTimeoutMs);
  if (!read.ok) return { ...unread(read.reason, api.limits), headers: { connection: 'close' } };
  const snapshot = api.options.snapshot();
  if (snapshot === undefined) return error(503, 'no policy snapshot is in service yet');
  const analysis = api.options.analysis;
  return answered(analysis && busy(api, () => analysis.whatIf(snapshot, read.body.toString('utf8'))), 'the what-if');
}

function reach(request: UiRequest, api: Api): UiReply {
  const node = request.url.searchParams.get('node');
  const as = request.url.searchParams.get('as') ?? 'caller';
  if (node === null || node === '') return error(400, 'reach takes ?node= (a SPIFFE ID or a service name)');
  if (as !== 'caller' && as !== 'destination') return error(400, `reach takes ?as=caller or ?as=destination, not ${JSON.stringify(as)}`);
  const refused = admitted(api);
  if (refused !== undefined) return refused;
  const snapshot = api.options.snapshot();
  if (snapshot === undefined) return error(503, 'no policy snapshot is in service yet');
  return json(200, busy(api, () => nodeReach(snapshot, node, as)));
}

/** A 429 while the API rests or the rate is spent; undefined (a token taken) otherwise. */
function admitted(api: Api): UiReply | undefined {
  const restMs = api.rest.untilMs - api.now();
  if (restMs > 0) return tooMany(api.limits, restMs);
  return api.bucket.take() ? undefined : tooMany(api.limits);
}

/** Runs work on the serving thread, and rests the API in proportion to the time it took. */
function busy<T>(api: Api, work: () => T): T {
  const started = api.now();
  try {
    return work();
  } finally {
    const ended = api.now();
    const excess = Math.max(0, ended - started - api.limits.busyFreeMs);
    api.rest.untilMs = Math.max(api.rest.untilMs, ended) + excess * (1 / api.limits.busyShare - 1);
  }
}

function unread(reason: 'too_large' | 'too_slow' | 'aborted', limits: UiLimits): UiReply {
  if (reason === 'too_large') return error(413, `the request body is larger than ${limits.bodyBytes} bytes`);
  if (reason === 'too_slow') return error(408, `the request body did not arrive within ${limits.bodyTimeoutMs} ms`);
  return error(400, 'the request body was cut off');
}

function answered(result: UiAnswer | undefined, what: string): UiReply {
  if (result === undefined) return error(501, `${what} is not available in this server`);
  return result.ok ? json(200, result.answer) : error(400, result.message);
}

function tooMany(limits: UiLimits, restMs?: number): UiReply {
  const message = restMs === undefined
    ? `at most ${limits.ratePerSecond} what-if and reach requests per second`
    : `what-if and reach take at most ${Math.round(limits.busyShare * 100)}% of the serving thread's time: resting ${Math.ceil(restMs)} ms`;
  const retryAfter = String(Math.max(1, Math.ceil(restMs === undefined ? 1 / limits.ratePerSecond : restMs / 1000)));
  return { ...error(429, message), headers: { 'retry-after': retryAfter } };
}

function methodNotAllowed(allow: string): UiReply {
  return { ...error(405, 'method not allowed'), headers: { allow } };
}

function withPageHeaders(reply: UiReply): UiReply {
  return { ...reply, headers: { ...PAGE_HEADERS, ...reply.headers } };
}

/**
 * DNS rebinding: a page from any site can point its own name at 127.0.0.1 and then read this
 * port as its own origin. Its requests carry that name in Host, so a name other than localhost
 * is refused; an IP literal, localhost, or no Host (HTTP/1.0) is served.
 */
export function addressedByAddress(host: string | undefined): boolean {
  if (host === undefined) return true;
  // `[v6]` or `name`, then at most a port: `[::1]evil.example` names no address
  const parts = /^(?:\[([^\]]*)\]|([^[\]:]*))(?::\d{1,5})?$/.exec(host);
  const name = parts?.[1] ?? parts?.[2];
  if (name === undefined) return false;
  return name === 'localhost' || isIP(name) !== 0;
}

function isRead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** A form cannot send JSON across sites without a preflight this server never grants. */
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType);
}

function json(status: number, value: object): UiReply {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(value)}\n` };
}

function error(status: number, message: string): UiReply {
  return json(status, { error: message });
}
