// The admin what-if's explanation of a set already in service: the same as explain's, without
// explain's validating compile, and it stops as explain does when the engines disagree.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { explainRequest, explainServedRequest } from '../../src/workflow/explain-request.js';
import { loadPolicySet } from '../../src/workflow/policy-set.js';
import { readRequestFile } from '../../src/workflow/request-file.js';

const OPTIONS = { defaultAction: 'DENY', rootNamespace: 'istio-system' } as const;
const REQUESTS = readdirSync('examples/requests').map((file) => `examples/requests/${file}`);

describe('explaining a request against a set in service', () => {
  test.each(REQUESTS)('gives what explain gives for %s', async (file) => {
    const set = await loadPolicySet(['examples/policies'], OPTIONS);
    const { subject, request } = await readRequestFile(file);
    expect(explainServedRequest(set, subject, request)).toEqual(explainRequest(set, subject, request));
  });

  test('stops, as explain does, when its tree decides otherwise than the reference trace', async () => {
    const set = await loadPolicySet(['examples/policies'], OPTIONS);
    const { subject, request } = await readRequestFile('examples/requests/checkout-creates-charge.yaml');
    const contrary = { ...set, tree: { ...set.tree, evaluate: () => ({ effect: 'deny', reason: 'default_deny' }) as const } };
    expect(() => explainServedRequest(contrary as typeof set, subject, request)).toThrow(expect.objectContaining({ code: 'engines_disagree' }));
  });
});
