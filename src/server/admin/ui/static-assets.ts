/**
 * The live map's files, read once at start: the page, its scripts and style from the
 * package's top-level `ui/` folder, and cytoscape's browser bundle from node_modules. Nothing
 * is fetched from anywhere else, and only these names are served (no path from the URL ever
 * reaches the file system).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** src/server/admin/ui and dist/server/admin/ui are both four folders below the package root. */
const UI_FOLDER = fileURLToPath(new URL('../../../../ui/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** URL path under /ui → file in the ui/ folder. */
const PAGE_FILES: Readonly<Record<string, string>> = {
  '/ui': 'index.html',
  '/ui/': 'index.html',
  '/ui/map.css': 'map.css',
  '/ui/map.js': 'map.js',
  '/ui/graph-model.js': 'graph-model.js',
  '/ui/panels.js': 'panels.js',
};

export const CYTOSCAPE_PATH = '/ui/vendor/cytoscape.esm.min.mjs';

export function loadStaticAssets(folder = UI_FOLDER): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const [path, file] of Object.entries(PAGE_FILES)) assets.set(path, asset(join(folder, file)));
  assets.set(CYTOSCAPE_PATH, asset(cytoscapeBundle()));
  return assets;
}

/** The package's exports map names no browser bundle for require; its CommonJS entry sits beside it. */
function cytoscapeBundle(): string {
  const entry = createRequire(import.meta.url).resolve('cytoscape');
  return join(dirname(entry), 'cytoscape.esm.min.mjs');
}

function asset(file: string): StaticAsset {
  const extension = file.slice(file.lastIndexOf('.') + 1);
  return { contentType: TYPES[extension] ?? 'application/octet-stream', body: readFileSync(file) };
}
