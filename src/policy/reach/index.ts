/**
 * reach: who can get what allowed, for all requests, computed from the policies on the
 * engine's semantics and shown real by witness requests the enforcing engine allows.
 * Used by `meshwarden reach`, `meshwarden verify` and the admin server's live map.
 */
export { callerClauses, normalizeCaller } from './caller.js';
export { computeReach, Reach } from './compute-reach.js';
export type { EntryLists, Grant, ReachInput } from './compute-reach.js';
export { destinationKey, destinationLabel, OTHER_SERVICE } from './scope.js';
export { blastRadius } from './blast-radius.js';
export type { BlastRadius, BlastHop } from './blast-radius.js';
export type { CallerClass, Clause, ReachDestination, ReachEntry, ReachQuery, ReachReport, Unless, Witness, WitnessRequest, WitnessUser } from './types.js';
