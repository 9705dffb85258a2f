/**
 * The live map's what-if: `explain`'s reading and evaluation live in workflow/, which server/
 * may not import, so whoever starts the server hands it in (cli/serve.ts). (Reach is policy/'s,
 * called directly: node-reach.ts.)
 */
import type { PolicySnapshot } from '../../../policy/index.js';

/** An answer the page may show: names and codes only, never policy text, keys or tokens. */
export type UiAnswer =
  | { readonly ok: true; readonly answer: object }
  /** The caller's input was wrong; `message` says where (field, line:col) and is safe to show. */
  | { readonly ok: false; readonly message: string };

export interface UiAnalysis {
  /** Evaluates one request, as `meshwarden explain` reads it (`text`: its JSON), against `snapshot`. */
  whatIf(snapshot: PolicySnapshot, text: string): UiAnswer;
}
