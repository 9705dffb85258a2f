import { describe, expect, test } from 'vitest';
import { parseLocatedYaml } from '../../src/workflow/located-yaml.js';
import { casesOf } from '../../src/workflow/test-cases.js';
import { WorkflowError, formatIssue } from '../../src/workflow/workflow-error.js';

const read = (text: string) => casesOf(parseLocatedYaml(text, 'c.yaml'));

function problems(text: string): { code: string; lines: string[] } {
  try {
    read(text);
  } catch (error) {
    if (error instanceof WorkflowError) return { code: error.code, lines: error.issues.map(formatIssue) };
    throw error;
  }
  throw new Error('expected the cases file to be refused');
}

const CASE = `
- name: one
  request:
    method: get
    path: /a/./b?x=1
    host: Payments.Example:8080
    source: { principal: spiffe://td/ns/a/sa/b }
  expect: { decision: allow }
`;

describe('reading a cases file', () => {
  test('a list of cases is read, with the request canonicalized as the server would', () => {
    const [c] = read(CASE);
    expect(c).toMatchObject({ name: 'one', file: 'c.yaml', line: 2, column: 9, expect: { decision: 'allow' } });
    expect(c!.request).toMatchObject({ method: 'GET', path: '/a/b', rawPath: '/a/./b?x=1', query: 'x=1', host: 'payments.example' });
    expect(c!.subject.workload?.uri).toBe('spiffe://td/ns/a/sa/b');
  });

  test('a mapping with `cases:` is read the same way', () => {
    expect(read(`cases:\n${CASE.replace(/^/gm, '  ')}`)).toHaveLength(1);
  });

  test('subject.principal and an end user override the source principal', () => {
    const [c] = read(`${CASE}  subject: { principal: spiffe://td/x, user: { issuer: https://idp, subject: u1, claims: { scope: a } } }\n`);
    expect(c!.subject.workload?.uri).toBe('spiffe://td/x');
    expect(c!.subject.user).toMatchObject({ principal: 'https://idp/u1', claims: { scope: 'a', sub: 'u1' } });
  });

  test.each([
    {
      why: 'an unknown field, with a suggestion',
      text: `- name: a\n  request: { method: GET, pth: /x }\n  expect: { decision: allow }\n`,
      lines: ['c.yaml:2:27: unknown field "pth"; did you mean "path"? ([0].request.pth)', 'c.yaml:2:12: missing required field "path" ([0].request.path)'],
    },
    {
      why: 'a decision that is not allow or deny',
      text: `cases:\n  - name: a\n    request: { method: GET, path: /x }\n    expect: { decision: maybe }\n`,
      lines: ['c.yaml:4:25: "maybe" is not one of "allow", "deny" (cases[0].expect.decision)'],
    },
    {
      why: 'a path the server would refuse',
      text: `- name: a\n  request: { method: GET, path: /a%2Fb }\n  expect: { decision: deny }\n`,
      lines: ['c.yaml:2:33: path contains an encoded slash (encoded_slash): the server would answer 400 ([0].request.path)'],
    },
    {
      why: 'a principal that is not a SPIFFE ID',
      text: `- name: a\n  request: { method: GET, path: /x }\n  subject: { principal: bob }\n  expect: { decision: deny }\n`,
      lines: ['c.yaml:3:25: "bob" is not a SPIFFE ID (spiffe://trust-domain/path) ([0].subject.principal)'],
    },
  ])('$why is refused at file:line:col', ({ text, lines }) => {
    const found = problems(text);
    expect(found.code).toBe('invalid_cases');
    expect(found.lines.sort()).toEqual([...lines].sort());
  });

  test('YAML syntax errors name their position', () => {
    expect(problems('- name: [unclosed\n')).toMatchObject({ code: 'yaml_syntax', lines: [expect.stringMatching(/^c\.yaml:\d+:\d+: /)] });
  });

  test('an empty file is refused: a CI job that tests nothing must not pass', () => {
    expect(problems('# nothing\n')).toMatchObject({ code: 'invalid_cases', lines: ['c.yaml: the file holds no test case'] });
  });
});
