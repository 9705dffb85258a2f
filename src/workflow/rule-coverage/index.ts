/** coverage: rules no traffic (or no test case) needs, and rules broader than their use. */
export { caseCoverage } from './case-coverage.js';
export type { CaseCoverage } from './case-coverage.js';
export { formatCaseCoverage, formatLogCoverageHuman, formatLogCoverageJson } from './coverage-report.js';
export { logCoverage } from './log-coverage.js';
export type { BroadRule, LogCoverage } from './log-coverage.js';
