/**
 * Warnings for a policy that reaches TCP destinations and names what only HTTP has, as
 * `istioctl analyze` warns: on a connection an ALLOW rule that names one never matches, and a
 * DENY or AUDIT rule ignores it, so it matches more connections than it reads.
 *
 * A destination is TCP when it is named by a port number (how a connection without a
 * destination SPIFFE ID is named) or listed in `tcpServices` (`meshwarden check --tcp-services`).
 * A policy reaches one when its `target.services` match it; a DENY or AUDIT without
 * `target.services` reaches every destination in its scope, so it is warned about as soon as
 * any TCP service is listed. An ALLOW without `target.services` is not: on a connection it
 * allows less, the safe side.
 */
import { httpOnlyFields } from '../http-only.js';
import type { Policy } from '../model.js';
import { issue, type Issue } from './issue.js';

export function tcpFindings(policy: Policy, tcpServices: readonly string[]): Issue[] {
  const reached = tcpDestinationsReached(policy, tcpServices);
  if (reached === undefined) return [];
  const found: Issue[] = [];
  policy.rules.forEach((rule, index) => {
    for (const { path, name } of httpOnlyFields(rule)) {
      found.push(issue('http_only_field_on_tcp', ['spec', 'rules', index, ...path], message(policy, name, reached)));
    }
  });
  return found;
}

function message(policy: Policy, name: string, reached: string): string {
  const what = `${name} is an HTTP attribute, which a TCP connection does not have (${reached})`;
  if (policy.action === 'ALLOW') return `${what}: on a connection this ALLOW rule never matches`;
  return `${what}: on a connection this ${policy.action} rule ignores it, so it matches more connections than it reads`;
}

/** Which TCP destinations the policy reaches, for the message; undefined when none. */
function tcpDestinationsReached(policy: Policy, tcpServices: readonly string[]): string | undefined {
  const services = policy.scope.services ?? [];
  if (services.length > 0) {
    const tcp = services.filter((pattern) => isPortNumber(pattern) || tcpServices.some((name) => matches(pattern, name)));
    return tcp.length === 0 ? undefined : `target ${tcp.join(', ')} is TCP`;
  }
  if (policy.action === 'ALLOW' || tcpServices.length === 0) return undefined;
  return `it applies to every destination in its scope, the TCP services ${tcpServices.join(', ')} included`;
}

function isPortNumber(service: string): boolean {
  return /^\d{1,5}$/.test(service);
}

/** Istio's string match of a target pattern (exact, `abc*`, `*abc`, `*`) against a service name. */
function matches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return name.endsWith(pattern.slice(1));
  return pattern === name;
}
