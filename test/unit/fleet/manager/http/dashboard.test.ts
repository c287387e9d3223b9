import { describe, expect, it } from 'vitest';
import { csrfAllowed, dashboardAsset, DASHBOARD_HEADERS } from '../../../../../src/fleet/manager/http/dashboard.js';

describe('dashboardAsset', () => {
  it.each([
    ['/', 'text/html; charset=utf-8'],
    ['/dashboard.js', 'text/javascript; charset=utf-8'],
    ['/dashboard.css', 'text/css; charset=utf-8'],
    ['/dashboard', undefined],
    ['/toString', undefined],
    ['/api/v1/backends', undefined],
  ])('%s → %s', (path, type) => {
    expect(dashboardAsset(path)?.contentType).toBe(type);
  });

  it('the page loads only its own files: no inline script or style for the CSP to refuse', () => {
    const page = dashboardAsset('/')?.body ?? '';
    expect(page).toContain('<script src="/dashboard.js" defer></script>');
    expect(page).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=|https?:\/\//);
    expect(DASHBOARD_HEADERS['content-security-policy']).toMatch(/^default-src 'self';/);
  });

  it('the script parses as JavaScript', () => {
    expect(() => new Function(dashboardAsset('/dashboard.js')?.body ?? '')).not.toThrow();
  });

  it('the script carries the chart functions as plain functions (no module code left in it)', () => {
    const script = dashboardAsset('/dashboard.js')?.body ?? '';
    expect(script).toMatch(/var pushSample = function pushSample\(/);
    expect(script).toMatch(/var sparkPoints = function sparkPoints\(/);
    expect(script).toMatch(/var exitText = function exitText\(/);
    expect(script).toMatch(/var stopQuestion = function stopQuestion\(/);
    expect(script).not.toMatch(/\bimport\b|\bexport\b|\$\{SPARK_/);
  });

  it('has pid, CPU and last exit columns and a dark colour scheme', () => {
    expect(dashboardAsset('/')?.body).toContain('<th>cpu</th>');
    expect(dashboardAsset('/')?.body).toContain('<th>pid</th>');
    expect(dashboardAsset('/')?.body).toContain('<th>last exit</th>');
    expect(dashboardAsset('/dashboard.css')?.body).toContain('@media (prefers-color-scheme: dark)');
  });
});

describe('csrfAllowed', () => {
  it.each([
    ['GET', 'cookie', undefined, true],
    ['POST', 'header', undefined, true],
    ['POST', 'query', undefined, true],
    ['POST', 'cookie', 'llmspell-fleet', true],
    ['POST', 'cookie', undefined, false],
    ['POST', 'cookie', 'XMLHttpRequest', false],
    ['POST', undefined, undefined, true],
  ] as const)('%s via %s with %s → %s', (method, via, header, ok) => {
    expect(csrfAllowed(method, via, header)).toBe(ok);
  });
});
