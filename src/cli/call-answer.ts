/**
 * A CheckResponse read as Envoy acts on it: the decision, the gRPC status (only OK lets the
 * request through), what Envoy does to the upstream request or answers the caller, and the
 * dynamic metadata its access log can show.
 */
import { status } from '@grpc/grpc-js';
import { structToJson, type JsonValue } from '../envoy/index.js';
import type { CheckAnswer } from './call-client.js';

export interface CallResult {
  /** The server's verdict (`decision` in the metadata): allow, deny, unauthenticated, invalid_request. */
  readonly decision: string;
  readonly grpcStatus: number;
  /** 200 for an allow; the status Envoy answers the caller with otherwise. */
  readonly httpStatus: number;
  /** On an allow: the headers Envoy sets on and removes from the request it passes upstream. */
  readonly upstream?: { readonly set: Record<string, string>; readonly remove: readonly string[] };
  /** On a denial: what Envoy answers the caller with, instead of the upstream. */
  readonly answer?: { readonly headers: Record<string, string>; readonly body: string };
  readonly dynamicMetadata: Record<string, JsonValue>;
}

type HeaderOption = { header?: { key?: string; value?: string } };
type Answer = {
  status?: { code?: number };
  okResponse?: { headers?: HeaderOption[]; headersToRemove?: string[] };
  deniedResponse?: { status?: { code?: number }; headers?: HeaderOption[]; body?: string };
  dynamicMetadata?: Parameters<typeof structToJson>[0];
};

export function readAnswer(raw: CheckAnswer): CallResult {
  const answer = raw as Answer;
  const grpcStatus = answer.status?.code ?? status.OK;
  const dynamicMetadata = structToJson(answer.dynamicMetadata);
  const decision = typeof dynamicMetadata['decision'] === 'string' ? dynamicMetadata['decision'] : grpcStatus === status.OK ? 'allow' : 'deny';
  if (grpcStatus === status.OK) {
    const ok = answer.okResponse;
    return { decision, grpcStatus, httpStatus: 200, upstream: { set: headerRecord(ok?.headers), remove: ok?.headersToRemove ?? [] }, dynamicMetadata };
  }
  const denied = answer.deniedResponse;
  // Envoy answers 403 to a denial that names no status
  const httpStatus = denied?.status?.code ?? 403;
  return { decision, grpcStatus, httpStatus, answer: { headers: headerRecord(denied?.headers), body: denied?.body ?? '' }, dynamicMetadata };
}

export function formatCallResult(result: CallResult): string {
  const grpc = `gRPC ${result.grpcStatus} ${status[result.grpcStatus] ?? ''}`.trimEnd();
  const lines =
    result.upstream !== undefined
      ? [`${result.decision}: Envoy passes the request upstream (${grpc})`, ...upstreamLines(result.upstream)]
      : [`${result.decision}: Envoy answers ${result.httpStatus} itself (${grpc})`, ...answerLines(result.answer)];
  lines.push('dynamic metadata (envoy.filters.http.ext_authz):', ...Object.entries(result.dynamicMetadata).map(([key, value]) => `  ${key}: ${text(value)}`));
  return `${lines.join('\n')}\n`;
}

function upstreamLines(upstream: NonNullable<CallResult['upstream']>): string[] {
  const set = Object.entries(upstream.set).map(([key, value]) => `  ${key}: ${value}`);
  return [
    'headers Envoy sets on the upstream request:',
    ...(set.length === 0 ? ['  (none)'] : set),
    ...(upstream.remove.length === 0 ? [] : ['headers Envoy removes from it:', ...upstream.remove.map((name) => `  ${name}`)]),
  ];
}

function answerLines(answer: CallResult['answer']): string[] {
  const headers = Object.entries(answer?.headers ?? {}).map(([key, value]) => `  ${key}: ${value}`);
  return ['answer to the caller:', ...headers, ...(answer?.body ? [`  ${answer.body}`] : [])];
}

function headerRecord(options: readonly HeaderOption[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of options ?? []) {
    const key = option.header?.key;
    if (key !== undefined) out[key] = option.header?.value ?? '';
  }
  return out;
}

function text(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
