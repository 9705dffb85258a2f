/**
 * Reads a V8 .cpuprofile (`node --cpu-prof`): self time by function and by where the code
 * lives (meshwarden's own source, Node's internals such as http2, dependencies, GC, idle),
 * as shares of the busy (non-idle) samples. Enough to say what bounds a figure.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileSummary {
  readonly profiledSeconds: number;
  /** Share of the wall time the main thread was busy (not idle). */
  readonly busyShare: number;
  /** Shares of busy time, largest first. */
  readonly categories: { readonly name: string; readonly share: number }[];
  readonly topFunctions: { readonly name: string; readonly where: string; readonly share: number }[];
}

export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'native/builtins';
  }
  if (url.startsWith('node:internal/http2') || url.includes('internal/http2')) return 'node:http2 (internal)';
  if (url.startsWith('node:internal/stream') || url.startsWith('node:stream') || url.includes('internal/streams')) return 'node streams (internal)';
  if (url.startsWith('node:internal/timers') || url.startsWith('node:internal/process') || url.startsWith('node:internal/async_hooks')) return 'node event loop / timers (internal)';
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/vm')) return 'node module loading (internal)';
  if (url === 'node:events' || url.startsWith('node:internal/event_target')) return 'node events';
  if (url === 'node:net' || url.startsWith('node:internal/stream_base_commons') || url.startsWith('node:internal/net')) return 'node net/socket (internal)';
  if (url.startsWith('node:internal/util') || url.startsWith('node:internal/validators') || url.startsWith('node:internal/errors')) return 'node util/validators/errors (internal)';
  if (url.startsWith('node:')) return `node other (${url.replace(/^node:(internal\/)?/, '')})`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dependency ${dep[1]}`;
  const src = /\/dist\/([^/]+)\//.exec(url) ?? /\/src\/([^/]+)\//.exec(url);
  if (src) return `meshwarden ${src[1]}/`;
  return 'other';
}

/**
 * `window`: [from, to] in µs of CLOCK_MONOTONIC, the clock of V8's profile timestamps and of
 * `process.hrtime` (in any process on Linux): only the samples of the load itself count, not
 * start-up (module loading, policy compilation) nor the idle wait before it.
 */
export function summarizeProfile(profile: CpuProfile, repoRoot = '', window?: readonly [number, number]): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window[0] || at > window[1])) continue;
    first = Math.min(first, at);
    last = Math.max(last, at);
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  if (window && selfUs.size === 0) throw new Error('no profile sample inside the load window (clocks differ?)');
  let total = 0;
  let idle = 0;
  const categories = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    const category = categoryOf(frame);
    if (category === 'idle') {
      idle += us;
      continue;
    }
    categories.set(category, (categories.get(category) ?? 0) + us);
    const where = frame.url ? `${frame.url.replace(`file://${repoRoot}`, '').replace(/^\//, '')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const busy = Math.max(1, total - idle);
  const share = (us: number) => Math.round((us / busy) * 1000) / 1000;
  return {
    profiledSeconds: window ? (last - first) / 1e6 : (profile.endTime - profile.startTime) / 1e6,
    busyShare: total > 0 ? Math.round(((total - idle) / total) * 1000) / 1000 : 0,
    categories: [...categories].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, share: share(us) })),
    topFunctions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, 12).map((f) => ({ name: f.name, where: f.where, share: share(f.us) })),
  };
}
