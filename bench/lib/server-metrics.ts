/**
 * Counts read on the server side from meshwarden's /metrics: h2load sees a gRPC error as an
 * HTTP 200, so only the server can say how many decisions were really made, and of which kind.
 */

export interface ServerCounts {
  readonly checks: number;
  readonly allow: number;
  readonly deny: number;
  readonly unauthenticated: number;
  readonly decisionCacheHits: number;
  readonly decisionCacheMisses: number;
  readonly tokenCacheHits: number;
  readonly tokenCacheMisses: number;
}

export async function scrapeCounts(admin: string): Promise<ServerCounts> {
  const response = await fetch(`http://${admin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET http://${admin}/metrics answered ${response.status}`);
  return countsOf(await response.text());
}

/** Sums every sample of a metric name, optionally only those whose labels contain `label`. */
export function sumSamples(text: string, name: string, label?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (label !== undefined && !rest.includes(label)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export function countsOf(text: string): ServerCounts {
  return {
    checks: sumSamples(text, 'meshwarden_checks_total'),
    allow: sumSamples(text, 'meshwarden_checks_total', 'decision="allow"'),
    deny: sumSamples(text, 'meshwarden_checks_total', 'decision="deny"'),
    unauthenticated: sumSamples(text, 'meshwarden_checks_total', 'decision="unauthenticated"'),
    decisionCacheHits: sumSamples(text, 'meshwarden_decision_cache_hits_total'),
    decisionCacheMisses: sumSamples(text, 'meshwarden_decision_cache_misses_total'),
    tokenCacheHits: sumSamples(text, 'meshwarden_token_cache_hits_total'),
    tokenCacheMisses: sumSamples(text, 'meshwarden_token_cache_misses_total'),
  };
}

export function countsDelta(after: ServerCounts, before: ServerCounts): ServerCounts {
  const out: Record<string, number> = {};
  for (const key of Object.keys(after) as (keyof ServerCounts)[]) out[key] = after[key] - before[key];
  return out as unknown as ServerCounts;
}
