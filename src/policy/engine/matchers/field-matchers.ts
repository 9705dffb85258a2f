/**
 * Leaf matchers over one request attribute. A positive matcher never matches an absent
 * attribute; its `not` (built with `not(...)`) therefore matches one, as Istio's
 * generated Envoy RBAC does for `notPrincipals` on a plaintext peer.
 */
import type { CidrMatcher, IpAddress } from './cidr-match.js';
import type { MatchContext } from './match-context.js';
import type { Matcher } from './matcher.js';
import type { StringSetMatcher, ValueMatcher } from './string-match.js';

export type ReadString = (ctx: MatchContext) => string | undefined;
export type ReadIp = (ctx: MatchContext) => IpAddress | undefined;

export class StringField implements Matcher {
  constructor(
    readonly read: ReadString,
    readonly values: ValueMatcher,
  ) {}
  matches(ctx: MatchContext): boolean {
    const value = this.read(ctx);
    return value !== undefined && this.values.matches(value);
  }
}

export class IpField implements Matcher {
  constructor(
    readonly read: ReadIp,
    readonly blocks: CidrMatcher,
  ) {}
  matches(ctx: MatchContext): boolean {
    const address = this.read(ctx);
    return address !== undefined && this.blocks.matches(address);
  }
}

export class PortField implements Matcher {
  constructor(readonly ports: ReadonlySet<number>) {}
  matches(ctx: MatchContext): boolean {
    const port = ctx.request.destination.port;
    return port !== undefined && this.ports.has(port);
  }
}

/** Any audience matches. */
export class AudienceField implements Matcher {
  constructor(readonly values: StringSetMatcher) {}
  matches(ctx: MatchContext): boolean {
    const audiences = ctx.subject.user?.audiences;
    if (audiences === undefined) return false;
    for (let i = 0; i < audiences.length; i += 1) if (this.values.matches(audiences[i]!)) return true;
    return false;
  }
}

/** A claim at a nested path; a list claim matches when any scalar element does. */
export class ClaimField implements Matcher {
  constructor(
    readonly path: readonly string[],
    readonly values: StringSetMatcher,
  ) {}

  matches(ctx: MatchContext): boolean {
    let value: unknown = ctx.subject.user?.claims;
    const path = this.path;
    for (let i = 0; i < path.length; i += 1) {
      const name = path[i]!;
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, name)) {
        return false;
      }
      value = (value as Record<string, unknown>)[name];
    }
    if (!Array.isArray(value)) return this.#scalarMatches(value);
    for (let i = 0; i < value.length; i += 1) if (this.#scalarMatches(value[i])) return true;
    return false;
  }

  #scalarMatches(value: unknown): boolean {
    if (typeof value === 'string') return this.values.matches(value);
    if (typeof value === 'number' || typeof value === 'boolean') return this.values.matches(String(value));
    return false;
  }
}

export const readSourcePrincipal: ReadString = (ctx) => ctx.sourcePrincipal;
export const readSourceNamespace: ReadString = (ctx) => ctx.sourceNamespace;
export const readRequestPrincipal: ReadString = (ctx) => ctx.requestPrincipal;
export const readPresenter: ReadString = (ctx) => ctx.subject.user?.presenter || undefined;
export const readMethod: ReadString = (ctx) => ctx.request.method;
export const readPath: ReadString = (ctx) => ctx.request.path;
export const readHost: ReadString = (ctx) => ctx.request.host || undefined;
export const readSni: ReadString = (ctx) => ctx.request.sni || undefined;
export const readSourceIp: ReadIp = (ctx) => ctx.sourceIp;
export const readDestinationIp: ReadIp = (ctx) => ctx.destinationIp;

export function readHeader(name: string): ReadString {
  return (ctx) => ctx.request.headers.get(name);
}
