/**
 * One authorization policy as the operator wrote it, after loading and validation.
 * Both accepted formats (meshwarden.io/v1 and Istio's security.istio.io) load into this
 * one model, with Istio's field names, so the compiler and the reference evaluator see one
 * language. Values are frozen; nothing here is compiled yet.
 */

export type PolicyAction = 'ALLOW' | 'DENY' | 'AUDIT';
export type PolicyMode = 'enforce' | 'dry-run';
export type PolicyFormat = 'meshwarden' | 'istio';

/** Where a policy came from, for errors, explain traces and `/policy`. */
export interface PolicyOrigin {
  readonly file: string;
  /** 0-based index of the YAML document within the file. */
  readonly document: number;
  /** 1-based line and column of the document's start. */
  readonly line: number;
  readonly column: number;
}

export interface Source {
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  readonly requestPrincipals?: readonly string[];
  readonly notRequestPrincipals?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
}

export interface Operation {
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly ports?: readonly string[];
  readonly notPorts?: readonly string[];
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

export interface Condition {
  /** e.g. `request.headers[x-tenant]`, `request.auth.claims[groups]`, `source.ip`. */
  readonly key: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

export interface Rule {
  readonly from?: readonly Source[];
  readonly to?: readonly Operation[];
  readonly when?: readonly Condition[];
}

/**
 * Where a policy applies. Native policies use `services`; Istio policies use the
 * namespace (absent for the root namespace: applies everywhere) and workload selector.
 */
export interface PolicyScope {
  /** Destination services; absent means every destination. */
  readonly services?: readonly string[];
  /** Destination namespace (Istio `metadata.namespace`, unless it is the root namespace). */
  readonly namespace?: string;
  /** Istio `selector.matchLabels`, matched against `context_extensions`. */
  readonly selector?: Readonly<Record<string, string>>;
}

export interface Policy {
  /** `namespace/name` for Istio policies, `name` for native ones: unique in a snapshot. */
  readonly id: string;
  readonly name: string;
  readonly format: PolicyFormat;
  readonly origin: PolicyOrigin;
  readonly action: PolicyAction;
  readonly mode: PolicyMode;
  readonly scope: PolicyScope;
  /**
   * The rules; a policy matches when any rule matches. An empty list matches nothing
   * (Istio: an ALLOW policy with no rules allows nothing).
   */
  readonly rules: readonly Rule[];
}

/** Settings the compiler needs beyond the policies themselves. */
export interface EngineOptions {
  /** What happens when no enforced policy decides. Zero trust: DENY unless chosen otherwise. */
  readonly defaultAction: 'ALLOW' | 'DENY';
  /** Istio's root namespace: policies there apply to every destination. */
  readonly rootNamespace: string;
  /**
   * Request bodies longer than this are not parsed: `request.body.json[...]` conditions treat
   * them as unseen (never an allow). Default 64 KiB.
   */
  readonly maxBodyBytes?: number;
  /**
   * Trust-domain migration: a principal written for a key's domain also matches the same path
   * in each listed domain (engine/trust-domain-aliases.ts). Absent: none, never implicit.
   */
  readonly trustDomainAliases?: Readonly<Record<string, readonly string[]>>;
}

/** Rules across a set of policies, as `/policy`, metrics and `meshwarden check` report them. */
export function countRules(policies: readonly Policy[]): number {
  let rules = 0;
  for (const policy of policies) rules += policy.rules.length;
  return rules;
}
