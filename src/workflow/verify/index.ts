/** verify: segment invariants (isolate, only, noUnauthenticated, everyDestinationCovered) proven with reach. */
export { invariantsOf, readInvariants } from './invariants-file.js';
export type { Invariant, InvariantKind } from './invariants-file.js';
export { destinationsIn, proveInvariants } from './prove.js';
export type { Counterexample, InvariantResult, Verdict } from './prove.js';
export { formatVerifyHuman, formatVerifyJson, formatVerifyJunit } from './verify-report.js';
