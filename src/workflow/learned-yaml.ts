/**
 * Learned policies → policy YAML that `meshwarden check` accepts, with a header saying what
 * it was learned from. Deterministic: the same log gives the same bytes (no "generated at").
 */
import { stringify } from 'yaml';
import type { DecisionLog } from './decision-log-reader.js';
import type { LearnedPolicy, MinCountResult } from './learn-policies.js';
import type { FlowCollection } from './observed-flows.js';

export interface LearnProvenance {
  readonly log: DecisionLog;
  readonly collection: FlowCollection;
  readonly minCount: number;
  readonly minCountResult: MinCountResult;
  readonly trustDomain?: string;
  readonly includeDefaultDenied?: boolean;
  readonly minDistinct: number;
  readonly pathTemplates: readonly string[];
}

export function renderLearnedPolicies(policies: readonly LearnedPolicy[], provenance: LearnProvenance): string {
  const header = headerLines(provenance).map((line) => `# ${line}`.trimEnd());
  if (policies.length === 0) return `${[...header, '# Nothing was learned: no flow passed the filters above.'].join('\n')}\n`;
  const documents = policies.map((policy) => `# ${summary(policy)}\n${stringify(policyDocument(policy), { lineWidth: 0 })}`);
  return `${header.join('\n')}\n${documents.join('---\n')}`;
}

function policyDocument(policy: LearnedPolicy): Record<string, unknown> {
  return {
    apiVersion: 'meshwarden.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: policy.name, labels: { 'meshwarden.io/learned': 'true' } },
    spec: {
      target: { services: [policy.service] },
      action: 'ALLOW',
      mode: policy.mode,
      rules: policy.rules.map((rule) => ({
        from: [{ source: { principals: [rule.principal] } }],
        to: rule.operations.map((op) => ({ operation: { methods: [...op.methods], paths: [...op.paths] } })),
      })),
    },
  };
}

function summary(policy: LearnedPolicy): string {
  const callers = policy.rules.map((r) => `${r.principal} (${r.requests})`).join(', ');
  return `${policy.service}: ${plural(policy.requests, 'request')} from ${plural(policy.rules.length, 'workload')}: ${callers}`;
}

function headerLines(p: LearnProvenance): string[] {
  const { log, collection, minCountResult: dropped } = p;
  const e = collection.excluded;
  return [
    `Learned by \`meshwarden learn\` from ${log.file}`,
    `  ${plural(log.lines, 'line')}: ${plural(log.records.length, 'decision')}; skipped ${log.skipped.notJson} not JSON, ${log.skipped.notDecision} without the needed fields`,
    `  time range: ${timeRange(log)}`,
    `  policy generation(s): ${generations(log)}`,
    `  learned from ${plural(collection.requests, 'request')} ${p.includeDefaultDenied ? 'allowed, or denied only because nothing allowed them' : 'allowed'}`,
    `  not learned: ${p.includeDefaultDenied ? '' : `${e.denied_by_default} denied by default, `}${e.denied_by_policy} denied by a DENY policy, ${e.other_outcome} other outcomes (unauthenticated, invalid, errors), ` +
      `${e.no_workload_identity} without a workload identity, ${e.unknown_destination} to an unknown destination, ` +
      `${e.inexpressible} not expressible as a policy path or method` +
      (p.trustDomain === undefined ? '' : `, ${e.other_trust_domain} from outside trust domain ${p.trustDomain}`),
    `  min-count: ${p.minCount}; dropped ${plural(dropped.droppedFlows, 'flow')} (${plural(dropped.droppedRequests, 'request')}) seen fewer times`,
    ...generalizationLines(p),
    `Review before enforcing: simulate with mode: dry-run or \`meshwarden diff\`, then set mode: enforce.`,
    '',
  ];
}

/** Each path position made `{*}`, and why, so a reviewer can judge every widening. */
function generalizationLines(p: LearnProvenance): string[] {
  const list = p.collection.generalizations;
  const templates = p.pathTemplates.length === 0 ? 'none' : p.pathTemplates.join(', ');
  const distinct = p.minDistinct === 0 ? 'off' : String(p.minDistinct);
  const head = `  path segments generalized to {*}: ${list.length === 0 ? 'none' : list.length} (min-distinct: ${distinct}; path templates: ${templates})`;
  return [
    head,
    ...list.map((g) => {
      const more = g.values > g.examples.length ? ', …' : '';
      return `    ${g.service} ${g.template}: ${g.reason}; ${plural(g.values, 'value')}: ${g.examples.join(', ')}${more}`;
    }),
  ];
}

function timeRange(log: DecisionLog): string {
  const times = log.records.map((r) => r.time).filter((t): t is string => t !== undefined).sort();
  return times.length === 0 ? 'unknown (the lines carry no time)' : `${times[0]} .. ${times[times.length - 1]}`;
}

function generations(log: DecisionLog): string {
  const seen = [...new Set(log.records.map((r) => r.generation).filter((g): g is number => g !== undefined))].sort((a, b) => a - b);
  return seen.length === 0 ? 'unknown' : seen.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
