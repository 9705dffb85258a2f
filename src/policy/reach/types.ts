/**
 * What `reach` answers, as plain JSON-able values: for a destination, every class of caller
 * some request could be allowed from, with what it may do and why; for a caller, every
 * destination it can reach. Shared by the CLI (table, JSON, graphs), verify and the admin map.
 */
import type { PolicyRef } from '../../domain/index.js';

/** A destination as policies scope it: a service, a namespace, the selector labels Envoy would send. */
export interface ReachDestination {
  /** Absent for a destination named by no policy (see `other`). */
  readonly service?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** True for the stand-in of every service no policy names by its name. */
  readonly other?: boolean;
}

/**
 * Who may call, one class per entry, never merged: a wildcard stays a wildcard.
 * - `anyone`: any caller, unauthenticated included (a rule with no principal or namespace
 *   constraint, a `notPrincipals`-only source, the default action ALLOW);
 * - `authenticated`: any caller with a workload identity (`principals: ["*"]`);
 * - `principal`: one SPIFFE ID; `principals`: SPIFFE IDs by prefix or suffix (`pattern`);
 * - `namespace`: any workload of a namespace (`namespace` may be a prefix/suffix pattern).
 */
export type CallerClass =
  | { readonly kind: 'anyone' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'principal'; readonly principal: string }
  | { readonly kind: 'principals'; readonly pattern: string }
  | { readonly kind: 'namespace'; readonly namespace: string };

/**
 * One constraint on one request attribute, exactly one of `values` (some value matches one of
 * them) or `notValues` (no value matches any of them; an absent attribute passes), with the
 * policy language's patterns. Attributes: `source.principal`, `source.namespace`, `source.ip`,
 * `request.auth.principal`, `request.auth.audiences`, `request.auth.presenter`, `method`,
 * `path`, `host`, `destination.port`, `destination.ip`, `connection.sni`,
 * `request.headers[NAME]`, `request.auth.claims[A][B]`, `request.body.json[A][B]`.
 */
export interface Clause {
  readonly attribute: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

/** A partially covering enforced DENY rule: the entry holds unless a request meets all of `clauses`. */
export interface Unless {
  readonly rule: PolicyRef;
  readonly clauses: readonly Clause[];
}

/**
 * A request the enforcing engine (the compiled tree) allowed, in the form `meshwarden test`
 * cases and `meshwarden explain` request files take.
 */
export interface Witness {
  readonly request: WitnessRequest;
  /** The end user, when the entry needs one: only a test case (`subject.user`) can carry it. */
  readonly subject?: { readonly user: WitnessUser };
  /** What the engine decided for it. */
  readonly decision: { readonly effect: 'allow'; readonly by?: PolicyRef; readonly reason: string };
}

export interface WitnessRequest {
  readonly method: string;
  readonly path: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly source?: { readonly principal?: string; readonly address?: string };
  readonly destination?: { readonly address?: string; readonly port?: number };
  readonly contextExtensions?: Readonly<Record<string, string>>;
  readonly sni?: string;
}

export interface WitnessUser {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences?: readonly string[];
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface ReachEntry {
  readonly destination: ReachDestination;
  readonly caller: CallerClass;
  /** The method and path constraints (absent: any method, any path). */
  readonly methods?: Clause;
  readonly paths?: Clause;
  /** Every other constraint left: headers, claims, IPs, body, notPrincipals, … */
  readonly conditions: readonly Clause[];
  /** The ALLOW rule that allows; absent when the default action (ALLOW) does. */
  readonly allowedBy?: PolicyRef;
  readonly unless: readonly Unless[];
  /**
   * A request the engine allows from this entry; absent when none was found, which happens
   * only where DENY rules together cover what no one of them covers alone: such an entry is
   * listed in `unproven`, not `entries`.
   */
  readonly witness?: Witness;
}

export type ReachQuery =
  | { readonly destination: ReachDestination }
  /** `principal` absent: an unauthenticated caller. */
  | { readonly caller: { readonly principal?: string } };

export interface ReachReport {
  readonly query: ReachQuery;
  /** Entries the engine was shown to allow (each with its witness). */
  readonly entries: readonly ReachEntry[];
  /** Entries no witness was found for (possibly covered by several DENYs together). */
  readonly unproven: readonly ReachEntry[];
  /** The destinations considered. */
  readonly destinations: readonly ReachDestination[];
}
