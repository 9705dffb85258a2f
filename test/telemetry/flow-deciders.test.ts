import { describe, expect, it } from 'vitest';
import { FlowGraph, type FlowObservation } from '../../src/telemetry/flow-graph.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const ALLOW_RULE = Object.freeze({ policy: 'payments-api', rule: 0 });
const DENY_RULE = Object.freeze({ policy: 'prod/no-guests', rule: 2 });
const DRY_RULE = Object.freeze({ policy: 'lockdown', rule: 1 });

function flow(overrides: Partial<FlowObservation> = {}): FlowObservation {
  return { source: CHECKOUT, destination: 'payments', method: 'GET', path: '/v1/charges', verdict: 'allow', ...overrides };
}

describe('what decided the requests of a flow edge', () => {
  it('counts each enforced rule, default and dry-run denial by name', () => {
    const graph = new FlowGraph();
    graph.observe(flow({ decider: { reason: 'policy_allow', by: ALLOW_RULE } }));
    graph.observe(flow({ decider: { reason: 'policy_allow', by: ALLOW_RULE, dryRun: { by: DRY_RULE } }, dryRunDeny: true }));
    graph.observe(flow({ verdict: 'deny', decider: { reason: 'policy_deny', by: DENY_RULE } }));
    graph.observe(flow({ verdict: 'deny', decider: { reason: 'default_deny' } }));

    expect(graph.toJSON().edges[0]?.decidedBy).toEqual({
      'policy_allow payments-api rules[0]': 2,
      'dry-run deny lockdown rules[1]': 1,
      'policy_deny prod/no-guests rules[2]': 1,
      default_deny: 1,
    });
  });

  it('keeps at most 32 deciders on one edge, counting on those it has', () => {
    const graph = new FlowGraph();
    for (let rule = 0; rule < 40; rule++) graph.observe(flow({ decider: { reason: 'policy_allow', by: { policy: 'wide', rule } } }));
    graph.observe(flow({ decider: { reason: 'policy_allow', by: { policy: 'wide', rule: 0 } } }));

    const decidedBy = graph.toJSON().edges[0]?.decidedBy ?? {};
    expect(Object.keys(decidedBy)).toHaveLength(32);
    expect(decidedBy['policy_allow wide rules[0]']).toBe(2);
  });

  it('adds up across merged snapshots, as the cluster primary merges its workers', () => {
    const one = new FlowGraph();
    const two = new FlowGraph();
    one.observe(flow({ decider: { reason: 'policy_allow', by: ALLOW_RULE } }));
    two.observe(flow({ decider: { reason: 'policy_allow', by: ALLOW_RULE } }));
    two.observe(flow({ verdict: 'deny', decider: { reason: 'default_deny' } }));

    const merged = FlowGraph.merge([one, two.toJSON()]).toJSON();
    expect(merged.edges[0]?.decidedBy).toEqual({ 'policy_allow payments-api rules[0]': 2, default_deny: 1 });
  });
});
