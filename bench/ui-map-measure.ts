/**
 * The live map at scale, measured in a real browser: a synthetic mesh of 1,000 workloads and
 * 1,000 services, 10,000 flows between them, fed through the real Check path (gRPC, the
 * pipeline, the flow graph), then drawn by the page. Shared by the browser test (generous
 * bounds) and bench/ui-map.ts (the figures).
 */
import { CheckClient, httpCheck } from '../test/helpers/check-client.js';
import { launchBrowser, type LiveMapPage } from '../test/helpers/browser.js';

export const SCALE = { namespaces: 20, workloads: 1_000, services: 1_000, edges: 10_000 } as const;

/** Allowed from even namespaces, denied from odd ones, and a dry-run DENY on a tenth of the services. */
export function scalePolicies(): string {
  const even = Array.from({ length: SCALE.namespaces / 2 }, (_, i) => JSON.stringify(namespace(i * 2)));
  const audited = Array.from({ length: SCALE.services / 10 }, (_, i) => JSON.stringify(service(i * 10)));
  return [
    'apiVersion: meshwarden.io/v1',
    'kind: AuthorizationPolicy',
    'metadata: { name: even-namespaces }',
    'spec:',
    '  action: ALLOW',
    `  rules: [{ from: [{ source: { namespaces: [${even.join(', ')}] } }] }]`,
    '---',
    'apiVersion: meshwarden.io/v1',
    'kind: AuthorizationPolicy',
    'metadata: { name: tighten-tenth }',
    'spec:',
    `  target: { services: [${audited.join(', ')}] }`,
    '  action: DENY',
    '  mode: dry-run',
    '  rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }]',
    '',
  ].join('\n');
}

const namespace = (i: number) => `ns-${String(i).padStart(2, '0')}`;
const service = (i: number) => `svc-${String(i).padStart(4, '0')}`;
const workload = (i: number) => `spiffe://mesh.example/ns/${namespace(i % SCALE.namespaces)}/sa/wl-${String(i).padStart(4, '0')}`;

/** Flow k: workload k/10 calls service (k*7 + k/10) mod 1000: every pair distinct, every service called. */
function flow(k: number): Record<string, unknown> {
  const from = Math.floor(k / (SCALE.edges / SCALE.workloads));
  const to = (k * 7 + from) % SCALE.services;
  const method = k % 13 === 0 ? 'DELETE' : 'GET';
  return httpCheck({ principal: workload(from), method, path: `/api/items/${k}`, service: service(to) });
}

/** Sends every flow once, `concurrency` Checks in flight; returns Checks per second. */
export async function feedScaleTraffic(grpcAddress: string, concurrency = 32): Promise<number> {
  const client = new CheckClient(grpcAddress, { deadlineMs: 10_000 });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < SCALE.edges) await client.check(flow(next++));
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    client.close();
  }
  return SCALE.edges / ((performance.now() - started) / 1000);
}

export interface MapFigures {
  readonly nodes: number;
  readonly edges: number;
  /** From navigation start to the first frame with the graph laid out and drawn. */
  readonly firstRenderMs: number;
  /** Of which: building the graph and laying it out (after /flows arrived). */
  readonly drawMs: number;
  /** Of which: adding the elements to cytoscape. */
  readonly mergeMs: number;
  /** Of which: the filters applied the first time. */
  readonly firstFilterMs: number;
  /** Of which: cytoscape's layout (concentric at this size). */
  readonly layoutMs: number;
  /** A refresh from /flows once the page is up (every 2 s): merge, filter, status. */
  readonly refreshMs: number;
  /** The namespace filter: choice → the next frame drawn with it. */
  readonly filterMs: number;
  /** Of which: deciding and restyling what is hidden, before the frame is drawn. */
  readonly filterOnlyMs: number;
  /** A real mouse click on a node → its details in the panel, and the next frame. */
  readonly clickMs: number;
}

export async function measureLiveMap(adminUrl: string, screenshot?: string): Promise<MapFigures> {
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  try {
    const { page } = browser;
    await page.goto(`${adminUrl}/ui`);
    await page.waitForFunction(() => (globalThis as unknown as LiveMapPage).liveMap.timings['firstRenderMs'] !== undefined, undefined, { timeout: 300_000 });
    await page.waitForFunction(() => (globalThis as unknown as LiveMapPage).liveMap.refreshes >= 2, undefined, { timeout: 60_000 });
    const figures = await page.evaluate(() => {
      const { cy, timings } = (globalThis as unknown as LiveMapPage).liveMap;
      return { nodes: cy.nodes().length, edges: cy.edges().length, firstRenderMs: timings['firstRenderMs']!, drawMs: timings['drawMs']!, mergeMs: timings['firstMergeMs']!, firstFilterMs: timings['firstFilterMs']!, layoutMs: timings['layoutMs']!, refreshMs: timings['lastDrawMs']! };
    });
    const filterMs = await page.evaluate(async () => {
      const { document, Event, performance, requestAnimationFrame } = globalThis as unknown as LiveMapPage;
      const select = document.getElementById('namespace');
      const started = performance.now();
      select.value = 'ns-03';
      select.dispatchEvent(new Event('change', { bubbles: true }));
      await new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return performance.now() - started;
    });
    const filterOnlyMs = await page.evaluate(() => (globalThis as unknown as LiveMapPage).liveMap.timings['lastFilterMs']!);
    await page.locator('#namespace').selectOption('');
    const clickMs = await clickResponse(page);
    if (screenshot !== undefined) await page.screenshot({ path: screenshot });
    return { ...figures, filterMs, filterOnlyMs, clickMs };
  } finally {
    await browser.close();
  }
}

/**
 * Times, inside the page, a real click's pointerdown on a node to the frame after the details
 * panel changed (its reach, fetched after, is not counted). A node, not an edge: at this
 * density an edge's midpoint is under other edges and nodes.
 */
async function clickResponse(page: import('playwright-core').Page): Promise<number> {
  const point = await page.evaluate(() => {
    const { cy } = (globalThis as unknown as LiveMapPage).liveMap;
    return cy.getElementById(cy.nodes()[0]!.id()).renderedPosition();
  });
  const timing = page.evaluate(() => new Promise<number>((resolve) => {
    const { document, MutationObserver, performance, requestAnimationFrame } = globalThis as unknown as LiveMapPage;
    let started = 0;
    document.getElementById('graph').addEventListener('pointerdown', () => (started = performance.now()), { once: true, capture: true });
    new MutationObserver((_, observer) => {
      observer.disconnect();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - started)));
    }).observe(document.getElementById('details'), { childList: true, subtree: true });
  }));
  const box = await page.locator('#graph').boundingBox();
  await page.mouse.click(box!.x + point.x, box!.y + point.y);
  return timing;
}
