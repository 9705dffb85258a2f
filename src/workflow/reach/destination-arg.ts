/**
 * `--to` as the command line writes it: `SERVICE`, `NAMESPACE/SERVICE`, `NAMESPACE/*` (any
 * service of the namespace), or a destination SPIFFE ID (`spiffe://td/ns/NS/sa/SA`: service SA
 * in namespace NS, as the engine resolves it), with `--label KEY=VALUE` for Istio selectors.
 */
import { spiffeNamespace, tryParseSpiffeId } from '../../domain/index.js';
import type { ReachDestination } from '../../policy/index.js';

export function parseDestination(text: string, labels: readonly string[] = []): ReachDestination {
  const labelMap = parseLabels(labels);
  const extra = Object.keys(labelMap).length > 0 ? { labels: labelMap } : {};
  if (text.startsWith('spiffe://')) {
    const id = tryParseSpiffeId(text);
    const sa = id?.path.match(/^\/ns\/[^/]+\/sa\/([^/]+)$/)?.[1];
    if (id === undefined || sa === undefined) throw new TypeError(`--to ${text}: a destination SPIFFE ID must read spiffe://TD/ns/NS/sa/SA`);
    return { service: sa, namespace: spiffeNamespace(id)!, ...extra };
  }
  const parts = text.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new TypeError(`--to ${text}: write SERVICE, NAMESPACE/SERVICE, NAMESPACE/* or a SPIFFE ID`);
  const [first, second] = parts as [string, string | undefined];
  if (second === undefined) return first === '*' ? { other: true, ...extra } : { service: first, ...extra };
  return second === '*' ? { namespace: first, other: true, ...extra } : { namespace: first, service: second, ...extra };
}

function parseLabels(labels: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const eq = label.indexOf('=');
    if (eq <= 0) throw new TypeError(`--label ${label}: write KEY=VALUE`);
    out[label.slice(0, eq)] = label.slice(eq + 1);
  }
  return out;
}
