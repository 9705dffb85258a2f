/**
 * The index of one kind of request (HTTP requests, or connections): policies filed by
 * destination (exact service, namespace, or everywhere), their rules by source principal,
 * path and method. Collecting walks only the buckets of the request's destination and the
 * index entries of its attributes, and offers the few candidate rules left to the accumulator.
 *
 * Buckets have ids: 0 is everywhere, then services, then namespaces. A bucket's flags byte
 * says what always applies there and whether the Bucket itself must be visited; the
 * principal table holds its short per-principal lists.
 */
import type { MatchContext } from '../matchers/match-context.js';
import type { Accumulator } from './accumulator.js';
import { Bucket, BucketFlags } from './bucket.js';
import { compactKeys } from './compact-keys.js';
import type { CompiledPolicy } from './compiled-rule.js';
import { ANY_PRINCIPAL, PrincipalTable, PrincipalTableBuilder } from './principal-table.js';

export class TreeIndex {
  readonly #serviceIds: ReadonlyMap<string, number>;
  readonly #namespaceIds: ReadonlyMap<string, number>;
  /** By bucket id; only buckets flagged Visit are kept. */
  readonly #buckets: readonly (Bucket | undefined)[];
  readonly #flags: Uint8Array;
  readonly #table: PrincipalTable;
  /**
   * By principal id: whether the everywhere bucket has a list for it. Every request
   * visits that bucket, and most principals have none there: no probe for them.
   */
  readonly #everywhere: Uint8Array;
  /** Policies offered to every request (no exact service or namespace to file them by). */
  readonly everywhereCount: number;

  /** `smallList`: rules per principal kept as a plain list rather than a path index (RuleIndex). */
  constructor(compiled: readonly CompiledPolicy[], smallList: number) {
    const byService = new Map<string, CompiledPolicy[]>();
    const byNamespace = new Map<string, CompiledPolicy[]>();
    const everywhere: CompiledPolicy[] = [];
    for (const policy of compiled) file(policy, byService, byNamespace, everywhere);
    const builder = new IndexBuilder(smallList);
    builder.add(everywhere);
    this.#serviceIds = compactKeys(builder.addAll(byService));
    this.#namespaceIds = compactKeys(builder.addAll(byNamespace));
    this.#buckets = Object.freeze(builder.buckets);
    this.#flags = Uint8Array.from(builder.flags);
    this.#table = builder.table.build();
    this.#everywhere = new Uint8Array(builder.table.principalIds.size + 1);
    for (const id of builder.everywherePrincipals) this.#everywhere[id] = 1;
    this.everywhereCount = everywhere.length;
    Object.freeze(this);
  }

  get services(): number {
    return this.#serviceIds.size;
  }

  get namespaces(): number {
    return this.#namespaceIds.size;
  }

  /** Offers `state` the candidate rules for the request `ctx` holds, and what applies at its destination. */
  collect(ctx: MatchContext, state: Accumulator): void {
    const principal = this.#table.principalId(ctx.sourcePrincipal);
    if (ctx.service !== undefined) {
      const service = this.#serviceIds.get(ctx.service);
      if (service !== undefined) this.#visit(service, principal, state);
    }
    if (ctx.namespace !== undefined) {
      const namespace = this.#namespaceIds.get(ctx.namespace);
      if (namespace !== undefined) this.#visit(namespace, principal, state);
    }
    this.#visit(EVERYWHERE, principal >= 0 && this.#everywhere[principal] === 1 ? principal : -1, state);
  }

  /** Residual scopes (in the Bucket) before any of its rules, wherever they are filed. */
  #visit(bucket: number, principal: number, state: Accumulator): void {
    const flags = this.#flags[bucket]!;
    state.applies(flags);
    if ((flags & BucketFlags.Visit) !== 0) state.visit(this.#buckets[bucket]!);
    if (principal >= 0) this.#table.collect(bucket, principal, state);
    if ((flags & BucketFlags.AnyPrincipal) !== 0) this.#table.collect(bucket, ANY_PRINCIPAL, state);
  }
}

const EVERYWHERE = 0;

function file(
  policy: CompiledPolicy,
  byService: Map<string, CompiledPolicy[]>,
  byNamespace: Map<string, CompiledPolicy[]>,
  everywhere: CompiledPolicy[],
): void {
  const placement = policy.placement;
  switch (placement.kind) {
    case 'services':
      for (const service of placement.services) listFor(byService, service).push(policy);
      return;
    case 'namespace':
      listFor(byNamespace, placement.namespace).push(policy);
      return;
    case 'everywhere':
      everywhere.push(policy);
      return;
  }
}

function listFor(map: Map<string, CompiledPolicy[]>, key: string): CompiledPolicy[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

/**
 * Builds each bucket in one go and seals it at once, its short lists going straight to
 * the principal table: nothing per bucket lives longer than it must (compile time at
 * 100k rules is mostly the garbage collector copying what is still alive).
 */
class IndexBuilder {
  readonly table = new PrincipalTableBuilder();
  readonly buckets: (Bucket | undefined)[] = [];
  readonly flags: number[] = [];
  /** Principal ids the everywhere bucket has a list for. */
  readonly everywherePrincipals: number[] = [];

  constructor(readonly smallList: number) {}

  /** Returns key → bucket id. */
  addAll(policies: ReadonlyMap<string, readonly CompiledPolicy[]>): Map<string, number> {
    const ids = new Map<string, number>();
    for (const [key, list] of policies) ids.set(key, this.add(list));
    return ids;
  }

  add(policies: readonly CompiledPolicy[]): number {
    const id = this.buckets.length;
    const bucket = Bucket.of(policies, this.smallList);
    let any = 0;
    bucket.seal((principal, list) => {
      if (principal === undefined) any = BucketFlags.AnyPrincipal;
      const principalId = this.table.add(id, principal, list);
      if (id === EVERYWHERE && principal !== undefined) this.everywherePrincipals.push(principalId);
    });
    const flags = bucket.flags | any;
    this.flags.push(flags);
    this.buckets.push((flags & BucketFlags.Visit) !== 0 ? bucket : undefined);
    return id;
  }
}
