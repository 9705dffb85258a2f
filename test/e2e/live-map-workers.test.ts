/**
 * The live map under `serve --workers 2`: the primary serves /ui; /flows merges the workers'
 * graphs over IPC with what decided each edge; the what-if and reach answer from the
 * primary's own snapshot. No browser: the page is the same page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUT, GUEST, sendMeshTraffic, startLiveMesh, type LiveMesh } from './live-map-fixture.js';

let mesh: LiveMesh;

beforeAll(async () => {
  mesh = await startLiveMesh(['--workers', '2']);
  await sendMeshTraffic(mesh.client);
}, 60_000);

afterAll(async () => {
  await mesh?.close();
});

interface Flows {
  edges: { source: string; destination: string; count: number; decidedBy?: Record<string, number> }[];
}

describe('the live map under serve --workers 2', () => {
  it('is served by the primary', async () => {
    const response = await fetch(`${mesh.adminUrl}/ui`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
  });

  it("shows what decided each edge, merged from the workers' graphs", async () => {
    const flows = (await (await fetch(`${mesh.adminUrl}/flows`)).json()) as Flows;
    const edge = (source: string, destination: string) => flows.edges.find((e) => e.source === source && e.destination === destination);
    expect(edge(CHECKOUT, 'payments')?.decidedBy).toEqual({ 'policy_allow payments-api rules[0]': 3 });
    expect(edge(GUEST, 'payments')?.decidedBy).toEqual({ 'policy_deny no-guests rules[0]': 2 });
  });

  it("answers the what-if and reach from the primary's snapshot", async () => {
    const request = { method: 'POST', path: '/entries', contextExtensions: { service: 'ledger' }, source: { principal: CHECKOUT } };
    const whatIf = await fetch(`${mesh.adminUrl}/ui/api/what-if`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    expect(await whatIf.json()).toMatchObject({ decision: { effect: 'allow', by: { policy: 'ledger-writers', rule: 0 } } });
    const reach = await fetch(`${mesh.adminUrl}/ui/api/reach?node=ledger&as=destination`);
    expect(await reach.json()).toMatchObject({ entries: [{ peer: { kind: 'principal', principal: CHECKOUT }, allowedBy: 'ledger-writers rules[0]' }] });
  });
});
