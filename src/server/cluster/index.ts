/** `--workers N`: a node:cluster primary and N workers serving one gRPC address. */
export { startClusterPrimary } from './primary.js';
export type { ClusterPrimary } from './primary.js';
