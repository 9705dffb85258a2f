/**
 * JUnit XML for CI systems. Every text that comes from a case file goes through escapeXml,
 * which also drops characters XML 1.0 cannot carry at all.
 */
import { caseDiff } from './case-report.js';
import type { RunResult } from './run-cases.js';

export function formatJunit(run: RunResult, suiteName: string, timeSeconds = 0): string {
  const tests = run.results.length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="meshwarden" tests="${tests}" failures="${run.failed}" errors="0">`,
    `  <testsuite name="${escapeXml(suiteName)}" tests="${tests}" failures="${run.failed}" errors="0" skipped="0" time="${timeSeconds.toFixed(3)}">`,
  ];
  for (const result of run.results) {
    const c = result.case;
    const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(suiteName)}" file="${escapeXml(c.file)}" line="${c.line}"`;
    if (result.mismatches.length === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    const message = `mismatch in ${result.mismatches.join(', ')}`;
    lines.push(`${open}>`, `      <failure message="${escapeXml(message)}" type="mismatch">${escapeXml(caseDiff(result).join('\n'))}</failure>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

// XML 1.0 Char: tab, LF, CR, and everything from U+0020 except surrogates (paired ones are fine) and U+FFFE/U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
