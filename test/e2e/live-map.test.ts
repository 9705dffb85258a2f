/**
 * The live map in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against a real meshwarden process fed with real Checks: what the operator sees and clicks.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCheck } from '../helpers/check-client.js';
import { chromiumFound, isLoopback, launchBrowser, type Browser, type LiveMapPage } from '../helpers/browser.js';
import { CHECKOUT, EXPECTED_EDGES, FRONTEND, GUEST, sendMeshTraffic, startLiveMesh, type LiveMesh } from './live-map-fixture.js';

let mesh: LiveMesh;
let browser: Browser;

const edgeId = (source: string, destination: string) => `${source} -> ${destination}`;
const RED = 'rgb(211,47,47)';

function edgeStyle(id: string, property: string): Promise<string> {
  return browser.page.evaluate(([id, property]) => (globalThis as unknown as LiveMapPage).liveMap.cy.getElementById(id!).style(property!), [id, property]);
}

describe.runIf(chromiumFound('the live map in a browser'))('the live map at /ui', () => {
  beforeAll(async () => {
    mesh = await startLiveMesh();
    await sendMeshTraffic(mesh.client);
    browser = await launchBrowser();
    await browser.page.goto(`${mesh.adminUrl}/ui`);
    await browser.page.waitForFunction(() => (globalThis as unknown as LiveMapPage).liveMap.refreshes >= 1, undefined, { timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await mesh?.close();
  });

  it('draws every observed workload, service and flow', async () => {
    const { nodes, edges } = await browser.page.evaluate(() => {
      const { cy } = (globalThis as unknown as LiveMapPage).liveMap;
      return { nodes: cy.nodes().map((n) => n.id()), edges: cy.edges().map((e) => e.id()) };
    });
    for (const [source, destination] of EXPECTED_EDGES) {
      expect(nodes).toEqual(expect.arrayContaining([source, destination]));
      expect(edges).toContain(edgeId(source, destination));
    }
  });

  it('draws a denied flow red, an allowed one green, one a dry-run policy would deny orange', async () => {
    const colours = await Promise.all(EXPECTED_EDGES.map(([source, destination]) => edgeStyle(edgeId(source, destination), 'line-color')));
    const expected = { allowed: 'rgb(46,125,50)', denied: RED, 'dry-run-denied': 'rgb(239,108,0)' };
    expect(colours).toEqual(EXPECTED_EDGES.map(([, , drawn]) => expected[drawn]));
  });

  it('shows the rule that decided when an edge is clicked', async () => {
    await clickEdge(edgeId(GUEST, 'payments'));
    const decidedBy = browser.page.locator('[data-field="decided-by"]');
    await expect.poll(() => decidedBy.textContent()).toContain('policy_deny no-guests rules[0]');
    expect(await browser.page.locator('#details').textContent()).toContain('/v1/charges/{*}');
  });

  it("shows a workload's reach when it is clicked: what the policy allows that no traffic used", async () => {
    await clickAt(await renderedPosition(CHECKOUT));
    const summary = browser.page.locator('[data-field="reach-summary"]');
    await expect.poll(() => summary.textContent()).toBe('2 allowed, 1 never observed');
    const rows = await browser.page.locator('[data-field="reach"] tr').allTextContents();
    expect(rows).toEqual(expect.arrayContaining([expect.stringMatching(/^payments.*payments-api rules\[0\]observed \(1\)$/), expect.stringMatching(/^ledger.*POST \/entries.*ledger-writers rules\[0\]allowed, never observed$/)]));
  });

  it('hides denied flows when the decision filter leaves them out, and shows them again', async () => {
    const denied = edgeId(GUEST, 'payments');
    await browser.page.locator('input[value="denied"]').uncheck();
    expect(await edgeStyle(denied, 'display')).toBe('none');
    await browser.page.locator('input[value="denied"]').check();
    expect(await edgeStyle(denied, 'display')).toBe('element');
  });

  it('filters by namespace: only flows from or to it stay', async () => {
    await browser.page.locator('#namespace').selectOption('shop');
    const shown = await browser.page.evaluate(() => {
      const { cy } = (globalThis as unknown as LiveMapPage).liveMap;
      return cy.edges().map((e) => e.id()).filter((id) => cy.getElementById(id).style('display') !== 'none');
    });
    expect(shown.sort()).toEqual(EXPECTED_EDGES.filter(([source]) => source.includes('/ns/shop/')).map(([s, d]) => edgeId(s, d)).sort());
    await browser.page.locator('#namespace').selectOption('');
  });

  it('draws a new flow without a reload', async () => {
    const before = await browser.page.evaluate(() => `${(globalThis as unknown as LiveMapPage).performance.getEntriesByType('navigation').length}:${(globalThis as unknown as LiveMapPage).performance.timeOrigin}`);
    await mesh.client.check(httpCheck({ principal: FRONTEND, path: '/v1/stock', service: 'inventory' }));
    const id = edgeId(FRONTEND, 'inventory');
    await browser.page.waitForFunction((id) => !(globalThis as unknown as LiveMapPage).liveMap.cy.getElementById(id).empty(), id, { timeout: 15_000 });
    expect(await edgeStyle(id, 'line-color')).toBe(RED);
    const after = await browser.page.evaluate(() => `${(globalThis as unknown as LiveMapPage).performance.getEntriesByType('navigation').length}:${(globalThis as unknown as LiveMapPage).performance.timeOrigin}`);
    expect(after).toBe(before);
  });

  it('answers a what-if from the policy in service, with the engine that enforces', async () => {
    const request = { method: 'GET', path: '/v1/charges/9', contextExtensions: { service: 'payments' }, source: { principal: GUEST } };
    await browser.page.locator('#what-if-request').fill(JSON.stringify(request));
    await browser.page.getByRole('button', { name: 'Evaluate' }).click();
    const decision = browser.page.locator('[data-field="what-if-decision"]');
    await expect.poll(() => decision.textContent()).toBe('deny (policy_deny) by no-guests rules[0]');
  });

  it('says where a what-if request is wrong', async () => {
    await browser.page.locator('#what-if-request').fill('{"method": "GET"}');
    await browser.page.getByRole('button', { name: 'Evaluate' }).click();
    const error = browser.page.locator('[data-field="what-if-error"]');
    await expect.poll(() => error.textContent()).toMatch(/^400: what-if.*path/);
  });

  it('is what the README shows: an edge clicked, a what-if answered (MESHWARDEN_SCREENSHOT=FILE writes docs/images/live-map.png)', async () => {
    await browser.page.locator('#namespace').selectOption('');
    await clickEdge(edgeId(GUEST, 'payments'));
    await browser.page.getByRole('button', { name: 'Evaluate' }).click();
    await expect.poll(() => browser.page.locator('[data-field="what-if-decision"]').textContent()).toBe('deny (policy_deny) by no-guests rules[0]');
    const file = process.env['MESHWARDEN_SCREENSHOT'] ?? join(tmpdir(), `meshwarden-live-map-${process.pid}.png`);
    const png = await browser.page.screenshot({ path: file });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('asked nothing of any origin but the server on loopback, and broke no content-security rule', () => {
    expect(browser.requests.length).toBeGreaterThan(5);
    expect(browser.requests.filter((url) => !isLoopback(url))).toEqual([]);
    // The one error a page may log: the 400 the bad what-if above was answered.
    expect(browser.errors.filter((text) => !/status of 400 \(Bad Request\)/.test(text))).toEqual([]);
  });
});

/** A real mouse click on the middle of an edge, where cytoscape drew it. */
async function clickEdge(id: string): Promise<void> {
  await clickAt(await browser.page.evaluate((id) => (globalThis as unknown as LiveMapPage).liveMap.cy.getElementById(id).renderedMidpoint(), id));
}

function renderedPosition(id: string): Promise<{ x: number; y: number }> {
  return browser.page.evaluate((id) => (globalThis as unknown as LiveMapPage).liveMap.cy.getElementById(id).renderedPosition(), id);
}

/** `point`: in the graph's own coordinates, as cytoscape renders. */
async function clickAt(point: { x: number; y: number }): Promise<void> {
  const box = await browser.page.locator('#graph').boundingBox();
  await browser.page.mouse.click(box!.x + point.x, box!.y + point.y);
}
