/**
 * A test-cases file: a YAML list of cases (or a mapping with `cases:`), each a request, an
 * optional caller and the expected decision. Every problem of the file is reported at once,
 * at file:line:col, before any case runs.
 */
import type { AccessRequest, Subject } from '../domain/index.js';
import type { FieldPath } from '../lib/index.js';
import { schemaIssues, type Issue, type PolicyReason } from '../policy/index.js';
import { failOnIssues, readLocatedYaml, type LocatedYaml } from './located-yaml.js';
import { workflowValidators } from './request-schema.js';
import { buildAccessRequest, buildSubject, type RequestSpec, type SubjectSpec } from './request-spec.js';
import { WorkflowError, fileIssue } from './workflow-error.js';

export interface Expectation {
  readonly decision: 'allow' | 'deny';
  readonly policy?: string;
  readonly rule?: number;
  readonly reason?: PolicyReason;
  readonly dryRun?: 'allow' | 'deny';
}

export interface TestCase {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly request: AccessRequest;
  readonly subject: Subject;
  readonly expect: Expectation;
}

interface CaseSpec {
  readonly name: string;
  readonly request: RequestSpec;
  readonly subject?: SubjectSpec;
  readonly expect: Expectation;
}

export async function readTestCases(file: string): Promise<TestCase[]> {
  return casesOf(await readLocatedYaml(file));
}

export function casesOf(yaml: LocatedYaml): TestCase[] {
  const { list, at } = caseList(yaml);
  const validate = workflowValidators().cases;
  if (!validate(list)) {
    const issues = schemaIssues(validate.errors ?? [], list).map((i) => ({ ...i, path: [...at, ...i.path] }));
    failOnIssues(yaml, 'invalid_cases', issues);
  }
  const specs = list as readonly CaseSpec[];
  const issues: Issue[] = [];
  const cases = specs.map((spec, index) => buildCase(yaml, spec, [...at, index], issues));
  failOnIssues(yaml, 'invalid_cases', issues);
  if (cases.length === 0) throw new WorkflowError('invalid_cases', [fileIssue(yaml.file, 'the file holds no test case')]);
  return cases as TestCase[];
}

function caseList(yaml: LocatedYaml): { list: unknown; at: FieldPath } {
  const data = yaml.data;
  if (typeof data === 'object' && data !== null && !Array.isArray(data) && 'cases' in data) {
    return { list: (data as { cases: unknown }).cases, at: ['cases'] };
  }
  if (data === null || data === undefined) return { list: [], at: [] };
  return { list: data, at: [] };
}

function buildCase(yaml: LocatedYaml, spec: CaseSpec, at: FieldPath, issues: Issue[]): TestCase | undefined {
  const request = buildAccessRequest(spec.request, [...at, 'request']);
  const subject = buildSubject(spec.subject, spec.request, { subject: [...at, 'subject'], request: [...at, 'request'] });
  issues.push(...request.issues, ...subject.issues);
  if (request.value === undefined || subject.value === undefined) return undefined;
  const { line, column } = yaml.locator.locate([...at, 'name']);
  return { name: spec.name, file: yaml.file, line, column, request: request.value, subject: subject.value, expect: spec.expect };
}
