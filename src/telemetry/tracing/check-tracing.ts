/**
 * The spans of Checks: one per Check, continuing the W3C trace context Envoy sent (gRPC
 * metadata first: the context of the span Envoy traces its ext_authz call with; then the
 * request's own headers, which is also where Envoy's HTTP service puts it), and, under it,
 * identity's spans on a token-cache miss. What a span says is an explicit list of decision
 * fields: no header value, token, claim, body, path or query ever becomes an attribute.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { AccessRequest, Authorization, TraceIds } from '../../domain/index.js';
import type { IdentityTracing, SpanEnd } from '../../identity/index.js';
import type { CallHeaders, CheckSpan, CheckTracing } from '../../check/index.js';
import { CHECK_SPAN_NAME, KEY_SET_FETCH_SPAN_NAME, VERIFICATION_SPAN_NAME } from './span-names.js';


const MAX_ATTRIBUTE = 256;

const CALL_HEADERS: TextMapGetter<CallHeaders> = { get: (call, key) => call.header(key), keys: () => [] };
const REQUEST_HEADERS: TextMapGetter<AccessRequest> = { get: (request, key) => request.headers.get(key), keys: () => [] };

/** Tracing of Checks and of identity under them, on one tracer. */
export type Tracing = CheckTracing & IdentityTracing;

export function createCheckTracing(tracer: Tracer): Tracing {
  const propagator = new W3CTraceContextPropagator();
  /** The context of the Check span whose pipeline is running: identity's spans are its children, across awaits. */
  const current = new AsyncLocalStorage<Context>();

  const parentOf = (call: CallHeaders | undefined, request: AccessRequest | undefined): Context => {
    if (call !== undefined) {
      const fromCall = propagator.extract(ROOT_CONTEXT, call, CALL_HEADERS);
      if (trace.getSpanContext(fromCall) !== undefined) return fromCall;
    }
    return request === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, request, REQUEST_HEADERS);
  };

  const begin = (call: CallHeaders | undefined, request: AccessRequest | undefined, startedMs: number): CheckSpan | undefined => {
    const parent = parentOf(call, request);
    const span = tracer.startSpan(CHECK_SPAN_NAME, { kind: SpanKind.SERVER, startTime: startedMs }, parent);
    if (span.isRecording()) return new RecordedCheck(span, trace.setSpan(parent, span), request, current);
    // sampled out: no span; a Check under someone else's span is still logged with its ids
    const remote = trace.getSpanContext(parent);
    return remote === undefined ? undefined : new UnrecordedCheck({ traceId: remote.traceId, spanId: remote.spanId });
  };

  const child = (name: string, attributes: Record<string, string>): SpanEnd | undefined => {
    const parent = current.getStore();
    if (parent === undefined) return undefined;
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    return (failure) => {
      if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failureCode(failure) });
      span.end();
    };
  };

  return {
    begin: (call, request, startedMs) => {
      try {
        return begin(call, request, startedMs);
      } catch {
        return undefined; // a trace is never worth a Check
      }
    },
    verification: (kind) => child(VERIFICATION_SPAN_NAME, { 'meshwarden.credential.kind': kind }),
    keySetFetch: (url) => child(KEY_SET_FETCH_SPAN_NAME, { 'server.address': hostOf(url) }),
  };
}

class RecordedCheck implements CheckSpan {
  readonly #span: Span;
  readonly #context: Context;
  readonly #request: AccessRequest | undefined;
  readonly #current: AsyncLocalStorage<Context>;

  constructor(span: Span, context: Context, request: AccessRequest | undefined, current: AsyncLocalStorage<Context>) {
    this.#span = span;
    this.#context = context;
    this.#request = request;
    this.#current = current;
  }

  run<T>(work: () => T): T {
    return this.#current.run(this.#context, work);
  }

  end(result: Authorization): Authorization {
    try {
      describe(this.#span, result, this.#request);
      this.#span.end();
      const { traceId, spanId } = this.#span.spanContext();
      return { ...result, trace: { traceId, spanId } };
    } catch {
      return result;
    }
  }
}

class UnrecordedCheck implements CheckSpan {
  readonly #ids: TraceIds;

  constructor(ids: TraceIds) {
    this.#ids = ids;
  }

  run<T>(work: () => T): T {
    return work();
  }

  end(result: Authorization): Authorization {
    return { ...result, trace: this.#ids };
  }
}

/** The decision, as the decision log says it: the explicit list, nothing copied wholesale. */
function describe(span: Span, result: Authorization, request: AccessRequest | undefined): void {
  const { decision } = result;
  span.setAttribute('meshwarden.decision', decision.verdict);
  span.setAttribute('meshwarden.reason', decision.reason);
  span.setAttribute('meshwarden.decision_id', decision.id);
  span.setAttribute('meshwarden.policy_generation', decision.generation);
  if (decision.by !== undefined) {
    span.setAttribute('meshwarden.policy', clipped(decision.by.policy));
    if (decision.by.rule !== undefined) span.setAttribute('meshwarden.rule', decision.by.rule);
  }
  if (decision.dryRun !== undefined) {
    span.setAttribute('meshwarden.dry_run', decision.dryRun.verdict === 'allow' ? 'would_allow' : 'would_deny');
    if (decision.dryRun.by !== undefined) span.setAttribute('meshwarden.dry_run_policy', clipped(decision.dryRun.by.policy));
  }
  if (result.destination !== undefined) span.setAttribute('meshwarden.destination', clipped(result.destination));
  const source = result.subject?.workload?.uri ?? request?.source.principal;
  if (source) span.setAttribute('meshwarden.source_principal', clipped(source));
  if (decision.reason === 'internal_error' || decision.reason === 'not_ready') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: decision.reason });
  }
}

/** A failure's code, never its message: messages may quote what a caller sent. */
function failureCode(failure: unknown): string {
  if (typeof failure === 'string') return failure;
  const code = (failure as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unknown';
  }
}

function clipped(text: string): string {
  return text.length <= MAX_ATTRIBUTE ? text : `${text.slice(0, MAX_ATTRIBUTE)}…`;
}
