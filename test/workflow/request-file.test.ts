import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseRequestText, readRequestFile } from '../../src/workflow/request-file.js';
import { WorkflowError, formatIssue } from '../../src/workflow/workflow-error.js';

const example = (name: string) => fileURLToPath(new URL(`../../examples/requests/${name}`, import.meta.url));

function refusal(text: string): string[] {
  try {
    parseRequestText(text, 'r.yaml');
  } catch (error) {
    if (error instanceof WorkflowError) return error.issues.map(formatIssue);
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('request files', () => {
  test('the AccessRequest form is read as the adapter would build it', async () => {
    const input = await readRequestFile(example('checkout-creates-charge.yaml'));
    expect(input.form).toBe('access-request');
    expect(input.request).toMatchObject({ method: 'POST', path: '/v1/charges', host: 'payments.prod.svc.cluster.local', requestId: '7f1c9a3e-example-allow' });
    expect(input.request.destination).toEqual({ principal: 'spiffe://prod.example/ns/payments/sa/payments', address: '10.0.9.3', port: 8080 });
    expect(input.request.contextExtensions.get('service')).toBe('payments');
    expect(input.subject).toMatchObject({ workload: { uri: 'spiffe://prod.example/ns/checkout/sa/checkout' }, workloadEvidence: 'mtls-principal' });
  });

  test("Envoy's CheckRequest JSON goes through the protobuf codec and the Envoy adapter", async () => {
    const input = await readRequestFile(example('batch-reads-charges.json'));
    expect(input.form).toBe('check-request');
    expect(input.request).toMatchObject({ method: 'GET', path: '/v1/charges/ch_1234', query: 'expand=customer', host: 'payments.prod.svc.cluster.local' });
    expect(input.request.source).toEqual({ address: '10.0.4.22', port: 40512, principal: 'spiffe://prod.example/ns/checkout/sa/batch' });
    expect(input.request.headers.get('x-request-id')).toBe('5b2e0d44-example-deny');
    expect(input.subject.workload?.uri).toBe('spiffe://prod.example/ns/checkout/sa/batch');
  });

  test('a CheckRequest whose source principal is not a SPIFFE ID has no workload, as on the wire', () => {
    const text = JSON.stringify({ attributes: { source: { principal: 'bob' }, request: { http: { method: 'GET', path: '/', host: 'h' } } } });
    expect(parseRequestText(text, 'r.json').subject).toEqual({});
  });

  test.each([
    { why: 'a CheckRequest without HTTP attributes or addresses', text: '{ "attributes": {} }', line: /^r\.yaml:1:\d+: missing_connection_attributes: attributes\.source\.address is absent.* \(attributes\.source\.address\)$/ },
    { why: 'a CheckRequest with a path the server refuses', text: '{"attributes":{"request":{"http":{"method":"GET","host":"h","path":"/a%2fb"}}}}', line: /^r\.yaml:1:\d+: invalid_path: encoded_slash: .*\(attributes\.request\.http\.path\)$/ },
    { why: 'an AccessRequest without a method', text: 'path: /x\n', line: /^r\.yaml:1:1: missing required field "method" \(method\)$/ },
    { why: 'an AccessRequest with a bad host', text: 'method: GET\npath: /x\nhost: "a b"\n', line: /^r\.yaml:3:7: host contains " " \(invalid_host\).* \(host\)$/ },
  ])('$why is refused, naming where', ({ text, line }) => {
    expect(refusal(text)).toEqual([expect.stringMatching(line)]);
  });
});
