import { describe, expect, test } from 'vitest';
import { escapeXml, formatJunit } from '../../src/workflow/junit.js';
import type { RunResult } from '../../src/workflow/run-cases.js';
import type { TestCase } from '../../src/workflow/test-cases.js';

const testCase = (name: string): TestCase => ({
  name,
  file: 'c.yaml',
  line: 3,
  column: 9,
  request: {} as TestCase['request'],
  subject: {},
  expect: { decision: 'allow', policy: 'p' },
});

const RUN: RunResult = {
  passed: 1,
  failed: 1,
  results: [
    { case: testCase('passes'), actual: { decision: 'allow', reason: 'policy_allow', policy: 'p', rule: 0 }, mismatches: [] },
    { case: testCase('a <b> & "c"'), actual: { decision: 'deny', reason: 'default_deny' }, mismatches: ['decision', 'policy'] },
  ],
};

describe('JUnit XML', () => {
  test.each([
    { text: 'a<b>&"c"\'', xml: 'a&lt;b&gt;&amp;&quot;c&quot;&apos;' },
    { text: 'nul\u0000 and esc\u001b', xml: 'nul\uFFFD and esc\uFFFD' },
    { text: 'tab\tnewline\n emoji 🚀', xml: 'tab\tnewline\n emoji 🚀' },
  ])('escapes $text', ({ text, xml }) => {
    expect(escapeXml(text)).toBe(xml);
  });

  test('counts tests and failures, and a failure carries the expected/actual diff', () => {
    const xml = formatJunit(RUN, 'cases.yaml');
    expect(xml).toContain('<testsuite name="cases.yaml" tests="2" failures="1" errors="0" skipped="0" time="0.000">');
    expect(xml).toContain('<testcase name="passes" classname="cases.yaml" file="c.yaml" line="3"/>');
    expect(xml).toContain('<testcase name="a &lt;b&gt; &amp; &quot;c&quot;" classname="cases.yaml" file="c.yaml" line="3">');
    expect(xml).toContain(
      '<failure message="mismatch in decision, policy" type="mismatch">- expected: allow by p\n+ actual:   deny (default_deny)</failure>',
    );
  });

  test('every element that opens is closed (a tag balance check)', () => {
    const stack: string[] = [];
    for (const [, close, name, selfClosing] of formatJunit(RUN, 's').matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (selfClosing === '/') continue;
      if (close === '/') expect(stack.pop()).toBe(name);
      else stack.push(name!);
    }
    expect(stack).toEqual([]);
  });
});
