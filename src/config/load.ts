/**
 * Reads the configuration file: YAML, validated against the config schema, every problem
 * reported as `file:line:col: message (field)` before anything starts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { formatFieldPath, YamlLocator } from '../lib/index.js';
import { formatPolicyError, schemaIssues } from '../policy/index.js';
import { buildConfig, type RawConfig } from './build.js';
import { CONFIG_SCHEMA } from './schema.js';
import type { ServerConfig } from './types.js';

/** The configuration cannot be used; `problems` are formatted `file:line:col: message`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

const validateConfig = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true }).compile(
  CONFIG_SCHEMA,
);

/** Loads and validates `file`; with no file, the defaults (relative paths from `cwd`). */
export async function loadConfig(file: string | undefined, overrides: RawConfig = {}): Promise<ServerConfig> {
  if (file === undefined) return buildValidated(overrides, process.cwd(), '<flags>');
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read: ${(error as Error).message}`]);
  }
  return buildValidated(mergeOverrides(parseConfigText(text, path), overrides), dirname(path), '<flags>');
}

/** Parses and validates the text of a config file into its raw form. */
export function parseConfigText(text: string, file: string): RawConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `${file}:${line}:${col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (!validateConfig(data)) {
    const locator = new YamlLocator(doc, lines);
    const problems = schemaIssues(explainedErrors(), data).map((issue) => {
      const { line, column } = locator.locate(issue.path, issue.anchor);
      return formatPolicyError({ ...issue, file, line, column, field: formatFieldPath(issue.path) });
    });
    throw new ConfigError(problems);
  }
  return data as RawConfig;
}

function buildValidated(raw: RawConfig, baseDir: string, origin: string): ServerConfig {
  if (!validateConfig(raw)) {
    const problems = schemaIssues(explainedErrors(), raw).map(
      (issue) => `${origin}: ${issue.message} (${formatFieldPath(issue.path)})`,
    );
    throw new ConfigError(problems);
  }
  return buildConfig(raw, baseDir);
}

/** ajv adds an `if` error beside the branch's own, which already says what is wrong. */
function explainedErrors(): ErrorObject[] {
  return (validateConfig.errors ?? []).filter((e) => e.keyword !== 'if');
}

/** Command-line flags win over the file, key by key. */
function mergeOverrides(base: RawConfig, overrides: RawConfig): RawConfig {
  return {
    ...base,
    ...overrides,
    grpc: { ...base.grpc, ...overrides.grpc },
    http: { ...base.http, ...overrides.http },
    admin: { ...base.admin, ...overrides.admin },
  };
}
