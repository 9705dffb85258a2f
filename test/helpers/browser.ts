/**
 * Debian's Chromium (/usr/bin/chromium), headless, driven by playwright-core, with a fresh
 * profile per launch. The background-networking flags are not cosmetic: without them Chromium
 * reaches out to Google's services at start and, on a closed network, its connections are
 * refused. Every request a page makes is recorded, so a test can prove it stayed on loopback.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox', // tests run as root in CI containers, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser tests can run: on a developer machine without Chromium they are skipped
 * with one line; under CI (which installs it) its absence fails the run.
 */
export function chromiumFound(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const problem = `no Chromium at ${CHROMIUM}; install it (apt-get install chromium) or point CHROMIUM_BIN at one`;
  const ci = (process.env['CI'] ?? '').trim().toLowerCase(); // as envoy-binary.ts reads it; that file is for vitest only
  if (ci !== '' && ci !== '0' && ci !== 'false') throw new Error(`CI is set and ${suite} cannot run: ${problem}`);
  console.warn(`${suite}: skipped, ${problem}`);
  return false;
}

export interface Browser {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every URL the page asked for, in order (documents, scripts, fetches). */
  readonly requests: string[];
  /** Console errors and page errors (a CSP violation is one). */
  readonly errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'meshwarden-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    page,
    context,
    requests,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Whether a URL names this machine: 127.0.0.0/8, ::1 or localhost (data: and about: pages stay local too). */
export function isLoopback(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'data:' || parsed.protocol === 'about:' || parsed.protocol === 'blob:') return true;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * What functions run inside the live map's page (page.evaluate) use of it, typed here because
 * the project compiles without the DOM library: `globalThis as unknown as LiveMapPage`.
 */
export interface LiveMapPage {
  readonly liveMap: { readonly refreshes: number; readonly timings: Readonly<Record<string, number | undefined>>; readonly cy: Cy };
  readonly document: { getElementById(id: string): PageElement };
  requestAnimationFrame(callback: () => void): number;
  readonly MutationObserver: new (callback: (records: unknown, observer: { disconnect(): void }) => void) => { observe(target: PageElement, options: object): void };
  readonly Event: new (type: string, init?: { bubbles?: boolean }) => object;
  readonly performance: { now(): number; readonly timeOrigin: number; getEntriesByType(type: string): { readonly length: number } };
}

interface PageElement {
  value: string;
  dispatchEvent(event: object): boolean;
  addEventListener(type: string, listener: () => void, options?: object): void;
}

/** The few calls of cytoscape's API the tests and benchmark make. */
export interface Cy {
  nodes(): CyCollection;
  edges(): CyCollection;
  getElementById(id: string): CyElement;
}

interface CyCollection {
  readonly length: number;
  readonly [index: number]: CyElement;
  map<T>(f: (element: CyElement) => T): T[];
}

interface CyElement {
  id(): string;
  empty(): boolean;
  style(name: string): string;
  renderedMidpoint(): { x: number; y: number };
  renderedPosition(): { x: number; y: number };
}
