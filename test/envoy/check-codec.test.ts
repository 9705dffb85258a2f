/**
 * The hand-written CheckResponse encoder against protobufjs' (the reference): the same bytes
 * for every answer toCheckResponse makes and for arbitrary messages of the same shape, and
 * what it writes decodes with Envoy's official protos.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/index.js';
import { encodeCheckResponse, encodeCheckResponseReference } from '../../src/envoy/check-codec.js';
import { toCheckResponse } from '../../src/envoy/to-check-response.js';
import type { CheckResponseMessage, HeaderValueOptionMessage, StructMessage, ValueMessage } from '../../src/envoy/wire-messages.js';
import { decodeOfficial } from '../helpers/official-protos.js';

const same = (message: CheckResponseMessage) => expect(encodeCheckResponse(message)).toEqual(encodeCheckResponseReference(message));

describe('encodeCheckResponse', () => {
  const decisions: Decision[] = [
    { id: 'd-1', verdict: 'allow', reason: 'policy_allow', by: { policy: 'prod/payments-api', rule: 0 }, generation: 4 },
    { id: 'd-2', verdict: 'deny', reason: 'default_deny', generation: 0 },
    { id: 'd-3', verdict: 'unauthenticated', reason: 'invalid_token', generation: 2 ** 40 },
    { id: 'd-4', verdict: 'invalid_request', reason: 'request_too_large', generation: 1, detail: 'x' },
    { id: 'é-ü-€-😀', verdict: 'deny', reason: 'policy_deny', by: { policy: 'ns/ünïcödé', rule: 300 }, dryRun: { verdict: 'allow', reason: 'policy_allow', by: { policy: 'p', rule: 1 } }, audit: { policy: 'audit', rule: 0 }, generation: 7 } as Decision,
  ];
  it.each(decisions.map((d) => [d.verdict, d] as const))('writes protobufjs\' bytes for a %s answer', (_verdict, decision) => {
    for (const ctx of [
      { principalHeader: 'x-meshwarden-principal', subjectPrincipal: 'spiffe://prod.example/ns/a/sa/b', requestId: 'r-1' },
      { principalHeader: 'x-p', requestId: '"quoted" \\ id ' + 'long'.repeat(100) },
    ]) {
      const message = toCheckResponse(decision, ctx);
      same(message);
      const decoded = decodeOfficial('envoy.service.auth.v3.CheckResponse', encodeCheckResponse(message));
      expect((decoded['status'] as { code?: number } | undefined)?.code ?? 0).toBe(message.status.code);
    }
  });

  it('grows for an answer larger than its scratch buffer, and keeps working after', () => {
    const big = toCheckResponse(decisions[1]!, { principalHeader: 'x-p', requestId: 'é'.repeat(200_000) });
    same(big);
    same(toCheckResponse(decisions[0]!, { principalHeader: 'x-p', requestId: 'r' }));
  });

  it('writes negative codes and every Value member as protobufjs does', () => {
    same({ status: { code: -1, message: 'neg' } });
    same({ status: { code: 0 }, dynamicMetadata: { fields: {
      n: { nullValue: 0 }, d: { numberValue: -1.5e300 }, z: { numberValue: 0 }, nan: { numberValue: Number.NaN },
      b: { boolValue: true }, s: { stringValue: '' }, st: { structValue: { fields: { in: { listValue: { values: [{ stringValue: 'a' }, { numberValue: 2 }, { structValue: {} }] } } } } },
      l: { listValue: {} }, e: {},
    } } });
  });

  const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'a', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(200)));
  const value: fc.Arbitrary<ValueMessage> = fc.letrec<{ value: ValueMessage; struct: StructMessage }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ stringValue: text }),
      fc.record({ numberValue: fc.double() }),
      fc.record({ boolValue: fc.boolean() }),
      fc.record({ nullValue: fc.constant(0) }),
      fc.record({ structValue: tie('struct') as fc.Arbitrary<StructMessage> }),
      fc.record({ listValue: fc.record({ values: fc.array(tie('value') as fc.Arbitrary<ValueMessage>, { maxLength: 3 }) }) }),
    ),
    struct: fc.record({ fields: fc.dictionary(text, tie('value') as fc.Arbitrary<ValueMessage>, { maxKeys: 4 }) }),
  })).value;
  const option: fc.Arbitrary<HeaderValueOptionMessage> = fc.record(
    { header: fc.record({ key: text, value: text }), append: fc.record({ value: fc.boolean() }), appendAction: fc.integer({ min: 0, max: 3 }) },
    { requiredKeys: ['header'] },
  );
  const response: fc.Arbitrary<CheckResponseMessage> = fc.record(
    {
      status: fc.record({ code: fc.integer({ min: -5, max: 2 ** 31 - 1 }), message: text }, { requiredKeys: ['code'] }),
      okResponse: fc.record({ headers: fc.array(option, { maxLength: 3 }), headersToRemove: fc.array(text, { maxLength: 3 }) }),
      deniedResponse: fc.record({ status: fc.record({ code: fc.constantFrom(0, 200, 400, 401, 403, 500, 503) }), headers: fc.array(option, { maxLength: 3 }), body: text }),
      dynamicMetadata: fc.record({ fields: fc.dictionary(text, value, { maxKeys: 6 }) }),
    },
    { requiredKeys: ['status'] },
  );

  it('writes protobufjs\' bytes for arbitrary CheckResponses', () => {
    fc.assert(fc.property(response, (message) => {
      same(message);
    }), { numRuns: 500 });
  });
});
