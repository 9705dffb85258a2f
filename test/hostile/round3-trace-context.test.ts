/**
 * Trace context is whatever a client writes in `traceparent` and `tracestate` (the Check's
 * request headers, or the gRPC call's metadata). Whatever it writes, the Check's tracing never
 * throws, and the ids it hands the decision log are a valid W3C context or none: an all-zero
 * trace or span id is invalid (W3C Trace Context §3.2.2.3) and must not become every hostile
 * request's shared trace_id. The real SDK decides sampling; sampled out (a rate of 0), the
 * remote context alone is what the decision log carries.
 */
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { AccessRequest, Authorization } from '../../src/domain/index.js';
import { createCheckTracing } from '../../src/telemetry/tracing/check-tracing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function tracingWith(root: Sampler) {
  const provider = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root }) });
  return createCheckTracing(provider.getTracer('hostile-test'));
}

const callWith = (headers: Record<string, string>) => ({ header: (name: string) => headers[name] });
const requestWith = (headers: Record<string, string>) => ({ headers: new Map(Object.entries(headers)), source: {} }) as unknown as AccessRequest;
const decided = { decision: { verdict: 'deny', reason: 'policy_deny', id: 'd1', generation: 1 } } as unknown as Authorization;

function idsOf(tracing: ReturnType<typeof tracingWith>, call: Record<string, string> | undefined, request: Record<string, string>) {
  const span = tracing.begin(call === undefined ? undefined : callWith(call), requestWith(request), Date.now());
  return span?.end(decided).trace;
}

const HEX_IDS = { traceId: expect.stringMatching(/^(?!0{32})[0-9a-f]{32}$/), spanId: expect.stringMatching(/^(?!0{16})[0-9a-f]{16}$/) };

describe('a client-written trace context, sampled out', () => {
  const tracing = tracingWith(new AlwaysOffSampler());

  it.each([
    ['an all-zero trace id', `00-${ZERO_TRACE}-${SPAN}-00`],
    ['an all-zero span id', `00-${TRACE}-${ZERO_SPAN}-00`],
    ['both all-zero', `00-${ZERO_TRACE}-${ZERO_SPAN}-01`],
  ])('gives the decision log no ids for %s', (_name, traceparent) => {
    expect(idsOf(tracing, { traceparent }, {})).toBeUndefined();
    expect(idsOf(tracing, undefined, { traceparent })).toBeUndefined();
  });

  it("lets an invalid context in the call's metadata not hide a valid one in the request's headers", () => {
    const ids = idsOf(tracing, { traceparent: `00-${ZERO_TRACE}-${SPAN}-01` }, { traceparent: `00-${TRACE}-${SPAN}-00` });
    expect(ids).toEqual({ traceId: TRACE, spanId: SPAN });
  });
});

describe('a client-written trace context, sampled', () => {
  const tracing = tracingWith(new AlwaysOnSampler());
  const member = (i: number) => `k${i}=${'v'.repeat(200)}`;

  it.each([
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['an all-zero trace id', `00-${ZERO_TRACE}-${SPAN}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['flags with unknown bits', `00-${TRACE}-${SPAN}-ff`],
    ['version 00 with a fifth part', `00-${TRACE}-${SPAN}-01-evil`],
    ['control bytes and quotes', `00-${TRACE}-${SPAN}-01\n{"trace_id":"evil"}`],
    ['a repeat joined by a comma', `00-${TRACE}-${SPAN}-01,00-${TRACE}-${SPAN}-01`],
    ['64 KiB of text', 'x'.repeat(64 * 1024)],
  ])('never throws and hands the log hex ids only, for %s', (_name, traceparent) => {
    const tracestate = Array.from({ length: 1000 }, (_, i) => member(i)).join(',');
    for (const ids of [idsOf(tracing, { traceparent, tracestate }, {}), idsOf(tracing, undefined, { traceparent, tracestate })]) {
      expect(ids).toEqual(HEX_IDS);
    }
  });
});
