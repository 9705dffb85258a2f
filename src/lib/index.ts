/** lib/: small shared mechanisms with no meshwarden meaning. One bounded memo, one file watcher, located YAML. */
export { BoundedMemo, DEFAULT_MEMO_SIZE } from './bounded-memo.js';
export { watchPaths } from './watch-paths.js';
export type { PathWatch, PathWatchOptions } from './watch-paths.js';
export { YamlLocator } from './located-yaml/yaml-locator.js';
export type { Anchor, Position } from './located-yaml/yaml-locator.js';
export { formatFieldPath, parseJsonPointer } from './located-yaml/field-path.js';
export type { FieldPath } from './located-yaml/field-path.js';
export { closestName } from './located-yaml/closest-name.js';
