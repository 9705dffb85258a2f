/**
 * What the live map asks of the policy in service, beyond what traffic showed: a what-if
 * evaluation and a node's reach. Both are computed by the offline tools (workflow/, which
 * server/ may not import), so whoever starts the server hands them in (cli/serve.ts).
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
  /** What the policy allows from or to `node` (a SPIFFE ID or a service); absent until it is wired. */
  reach?(snapshot: PolicySnapshot, node: string): UiAnswer;
}
