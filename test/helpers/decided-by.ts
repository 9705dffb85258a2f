/**
 * A Check handler made of a function that answers a bare Decision, for tests of the transports
 * and the wire: the pipeline's result without a subject or a destination.
 */
import type { CheckHandler } from '../../src/check/index.js';
import type { AccessRequest, Decision } from '../../src/domain/index.js';

export type DecisionHandler = (request: AccessRequest) => Decision | Promise<Decision>;

export function decidedBy(decide: DecisionHandler): CheckHandler {
  return (request) => {
    const decision = decide(request);
    return decision instanceof Promise ? decision.then((settled) => ({ decision: settled })) : { decision };
  };
}
