/**
 * The one verdict on a Python check script (test/e2e/py/*_check.py and friends): its last stdout
 * line is `{"ok": bool, "checks": {name: {"ok": bool, "detail": ...}}, ...}`. A script that
 * crashed, printed nothing, recorded no check or skipped the ones a test is about must fail as
 * surely as one whose check failed; "no check failed" alone would pass all of those.
 */
import { expect } from 'vitest';
import type { RunPythonResult } from './e2e.js';

export interface CheckRecord {
  ok: boolean;
  detail?: unknown;
  seconds?: number;
}

export interface ChecksResult {
  ok: boolean;
  checks: Record<string, CheckRecord>;
}

/**
 * What a test expects to have been checked: these names (each must be there, others may be too),
 * `{ exactly }` (these names and no others, in this order), or `{ atLeast }` checks of any name
 * (for scripts whose names depend on their input).
 */
export type ExpectedChecks = readonly string[] | { exactly: readonly string[] } | { atLeast: number };

/** The part of a run the verdict reads; RunPythonResult has it. */
export interface CheckRun {
  code: number | null;
  timedOut: boolean;
  result: unknown;
}

function isChecksResult(value: unknown): value is ChecksResult {
  if (typeof value !== 'object' || value === null) return false;
  const checks = (value as { checks?: unknown }).checks;
  return typeof checks === 'object' && checks !== null && !Array.isArray(checks);
}

// (Array.isArray does not narrow a readonly array out of a union)
function isNameList(expected: ExpectedChecks): expected is readonly string[] {
  return Array.isArray(expected);
}

function detailOf(check: CheckRecord): string {
  const text = JSON.stringify(check.detail) ?? 'no detail';
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** Pure: every reason the run does not count as "the expected checks ran and passed"; [] if it does. */
export function checkProblems(run: CheckRun, expected: ExpectedChecks): string[] {
  const problems: string[] = [];
  if (run.timedOut) problems.push('the script timed out');
  if (!isChecksResult(run.result)) {
    problems.push('the script printed no result line with "checks"');
    return problems;
  }
  const { checks } = run.result;
  const names = Object.keys(checks);
  if (names.length === 0) problems.push('the script recorded no check');
  for (const [name, check] of Object.entries(checks)) {
    if (check?.ok !== true) problems.push(`failed: ${name}: ${detailOf(check ?? { ok: false })}`);
  }
  if (isNameList(expected)) {
    for (const name of expected) if (!(name in checks)) problems.push(`missing: ${name}`);
  } else if ('exactly' in expected) {
    for (const name of expected.exactly) if (!(name in checks)) problems.push(`missing: ${name}`);
    for (const name of names) if (!expected.exactly.includes(name)) problems.push(`unexpected: ${name}`);
    if (problems.length === 0 && names.join() !== expected.exactly.join()) problems.push(`out of order: ${names.join(', ')}`);
  } else if (names.length < expected.atLeast) {
    problems.push(`only ${names.length} checks recorded, expected at least ${expected.atLeast}`);
  }
  if (run.result.ok !== true) problems.push('the result says ok: false');
  if (run.code !== 0) problems.push(`exit status ${String(run.code)}`);
  return problems;
}

/**
 * Asserts that the check script ran, recorded the expected checks, and every check passed;
 * the failure message lists each problem (with the failed checks' details), then `why` (the
 * run described: describeRun, plus any log of the test's own). Returns the result line.
 */
export function expectChecksPassed<R extends ChecksResult>(run: RunPythonResult<R>, expected: ExpectedChecks, why: string): R {
  expect(checkProblems(run, expected), why).toEqual([]);
  return run.result as R;
}
