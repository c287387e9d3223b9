/**
 * The live dashboard in a real Chromium against a real manager (autostarted by a client, as
 * routers do) with stand-in backends: opened once with the token, it shows the fleet, picks up
 * a backend spawned through the API without a reload (the event stream), and stops one with
 * its button (a cookie POST with X-Requested-With), and shows each backend's message rate from
 * the relay counts its routers report, and each backend's CPU % and memory with history charts
 * that grow as the page re-reads the list, in light and dark mode; stop asks first, a dead
 * backend shows its last exit, and a wrong token shows nothing. Screenshots go to
 * test-artifacts/dashboard/ (dashboard-1280x800.png is the one docs/dashboard.png is made from).
 */
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { freshArtifactsDir } from '../helpers/artifacts.js';
import { makeJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { standinFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { CHROMIUM } from '../helpers/jupyterlab.js';
import { WAIT_MS } from '../helpers/lab-page.js';
import { isRunning, waitForNoProcesses } from '../helpers/processes.js';


interface Backend {
  kernelId: string;
  pid: number;
}

let jenv: JupyterEnv;
let env: NodeJS.ProcessEnv;
let home: string;
let base: string;
let token: string;
let managerPid: number;
let browser: Browser | undefined;
let page: Page;
let artifacts: string;

async function spawn(group: string): Promise<Backend> {
  const res = await fetch(`${base}/api/v1/backends`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ runtime: 'standin', provider: 'openai', group }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Backend;
}

const row = (kernelId: string) => page.locator(`tr[data-kernel-id="${kernelId}"]`);

describe('the live dashboard in Chromium', () => {
  beforeAll(async () => {
    artifacts = await freshArtifactsDir('dashboard');
    jenv = await makeJupyterEnv();
    ({ home, env } = await standinFleet(jenv, { top: ['linger_seconds = 600'] }));
    const client = await ManagerClient.connect({ home, env, autostart: true });
    managerPid = (await client.request<ManagerInfo>({ op: 'ping' })).pid;
    client.close();
    const info = (await import('../../src/fleet/manager/http/http-file.js')).readHttpInfo;
    const http = await info(home);
    if (http === undefined) throw new Error('the manager wrote no http.json');
    base = http.url;
    token = http.token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], env: jenv.env, timeout: WAIT_MS });
    page = await browser.newPage();
  }, WAIT_MS);

  afterAll(async () => {
    await browser?.close();
    await stopFleetManager(home);
    await waitForNoProcesses(home);
    expect(await isRunning(managerPid)).toBe(false);
    await jenv.cleanup();
  });

  it('opens with the token once, then shows live changes, and stops and restarts backends with its buttons', async () => {
    const first = await spawn('first');
    await page.goto(`${base}/?token=${token}`);
    // The token went into the cookie; the address bar is clean.
    expect(page.url()).toBe(`${base}/`);
    await row(first.kernelId).locator('.state', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: WAIT_MS });
    expect(await row(first.kernelId).locator('td.pid').innerText()).toBe(String(first.pid));
    expect(await row(first.kernelId).locator('td').nth(2).innerText()).toBe('standin');
    await page.screenshot({ path: join(artifacts, '01-opened.png'), fullPage: true });

    // Spawned elsewhere: the row comes from the event stream, with no reload.
    let reloaded = false;
    page.on('framenavigated', () => (reloaded = true));
    const second = await spawn('second');
    await row(second.kernelId).locator('.state', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    expect(await row(second.kernelId).locator('td').nth(3).innerText()).toBe('openai / second');
    await page.screenshot({ path: join(artifacts, '02-second-appeared.png'), fullPage: true });

    // Stop asks first: cancelled, nothing happens.
    const asked: string[] = [];
    page.once('dialog', (dialog) => void (asked.push(dialog.message()), dialog.dismiss()));
    await row(second.kernelId).getByRole('button', { name: 'stop' }).click();
    expect(asked).toEqual([`Stop backend ${second.kernelId}? Its state is lost; no notebook is attached.`]);
    expect(await isRunning(second.pid)).toBe(true);
    expect(await row(second.kernelId).locator('.state').innerText()).toBe('ready');
    page.once('dialog', (dialog) => void dialog.accept());
    await row(second.kernelId).getByRole('button', { name: 'stop' }).click();
    await row(second.kernelId).waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(await isRunning(second.pid)).toBe(false);
    await page.locator('#status', { hasText: `done: /api/v1/backends/${second.kernelId}/stop` }).waitFor({ timeout: WAIT_MS });
    expect(await row(first.kernelId).count()).toBe(1);
    expect(reloaded).toBe(false);

    await row(first.kernelId).getByRole('button', { name: 'logs' }).click();
    await page.locator('#log-title', { hasText: `log of ${first.kernelId}` }).waitFor({ timeout: WAIT_MS });
    await page.locator('#log', { hasText: `kernel ${first.kernelId} ready` }).waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: join(artifacts, '03-stopped-and-log.png'), fullPage: true });

    // Restart: the row of the old backend goes, one for its replacement (same requirement) comes.
    await row(first.kernelId).getByRole('button', { name: 'restart' }).click();
    await row(first.kernelId).waitFor({ state: 'detached', timeout: WAIT_MS });
    const replacement = page.locator('tr[data-kernel-id]', { hasText: 'openai / first' });
    await replacement.locator('.state', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('tr[data-kernel-id]').count()).toBe(1);
    expect(reloaded).toBe(false);
    await page.screenshot({ path: join(artifacts, '04-restarted.png'), fullPage: true });
  });

  it('shows a backend that died with its last exit reason', async () => {
    const backend = await spawn('dies');
    await page.goto(`${base}/`);
    await row(backend.kernelId).locator('.state', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    expect(await row(backend.kernelId).locator('td.exit').innerText()).toBe('');
    process.kill(backend.pid, 'SIGKILL');
    await row(backend.kernelId).locator('.state', { hasText: 'dead' }).waitFor({ timeout: WAIT_MS });
    await row(backend.kernelId).locator('td.exit', { hasText: 'signalled (SIGKILL)' }).waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: join(artifacts, '04b-died.png'), fullPage: true });
  });

  it('shows no data with a wrong token or none: 401 and an empty page', async () => {
    const backend = await spawn('stranger');
    const listed = (await (await fetch(`${base}/api/v1/backends`, { headers: { authorization: `Bearer ${token}` } })).json()) as { backends: Backend[] };
    const running = listed.backends.map((b) => b.kernelId);
    expect(running).toContain(backend.kernelId);
    const context = await browser!.newContext();
    try {
      const stranger = await context.newPage();
      const statuses: number[] = [];
      stranger.on('response', (res) => void statuses.push(res.status()));
      for (const url of [`${base}/?token=wrong`, `${base}/`, `${base}/api/v1/backends`]) {
        statuses.length = 0;
        // Chromium shows its own error page for a 401 with an empty body (goto rejects with ERR_HTTP_RESPONSE_CODE_FAILURE).
        await stranger.goto(url).catch((error: unknown) => expect(String(error)).toMatch(/ERR_HTTP_RESPONSE_CODE_FAILURE/));
        expect(statuses, url).toEqual([401]);
        // The refused navigation ends on Chromium's error page: read what it shows once it is there.
        await stranger.waitForURL(/^chrome-error:/, { timeout: WAIT_MS });
        await stranger.waitForLoadState('load');
        expect(await stranger.locator('tr[data-kernel-id]').count(), url).toBe(0);
        const shown = await stranger.locator('body').innerText();
        for (const id of running) expect(shown, url).not.toContain(id);
      }
      await stranger.screenshot({ path: join(artifacts, '00-wrong-token.png') });
    } finally {
      await context.close();
    }
  });

  it('shows the message rate of a backend from the relay counts its routers report, without a reload', async () => {
    const backend = await spawn('rate');
    await page.goto(`${base}/`);
    await row(backend.kernelId).locator('.state', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    expect(await row(backend.kernelId).locator('.rate').innerText()).toBe('');
    // Reports as a router sends them over its manager connection (relay-counts op), until the page shows a rate.
    const reporter = await ManagerClient.connect({ home, env, autostart: false });
    let reporting = true;
    const reports = (async () => {
      while (reporting) {
        await reporter.request({ op: 'relay-counts', kernelId: backend.kernelId, routerId: 'dashboard-test', relayed: [{ channel: 'iopub', direction: 'to_client', messages: 100, bytes: 10_000 }] });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await row(backend.kernelId).locator('.rate', { hasText: /[1-9]/ }).waitFor({ timeout: WAIT_MS });
      expect(Number(await row(backend.kernelId).locator('.rate').innerText())).toBeGreaterThan(0);
      await page.screenshot({ path: join(artifacts, '05-message-rate.png'), fullPage: true });
    } finally {
      reporting = false;
      await reports;
      reporter.close();
    }
  });

  it('shows CPU % and memory with history charts that gain points on each re-read, in light and dark mode and at phone width', async () => {
    const backend = await spawn('charts');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${base}/`);
    await row(backend.kernelId).locator('.state', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    await row(backend.kernelId).locator('.cpu .value', { hasText: /^\d+(\.\d)?%$/ }).waitFor({ timeout: WAIT_MS });
    // The page keeps one reading a second at most and re-reads every 2 s: wait for three.
    const pointsIn = (cell: string) =>
      page.waitForFunction(
        ([id, cls]) => {
          const line = document.querySelector(`tr[data-kernel-id="${CSS.escape(id!)}"] td.${cls} svg.spark polyline`);
          return (line?.getAttribute('points') ?? '').split(' ').filter(Boolean).length >= 3;
        },
        [backend.kernelId, cell],
        { timeout: WAIT_MS },
      );
    await pointsIn('cpu');
    await pointsIn('memory');
    const points = (await row(backend.kernelId).locator('td.memory polyline').getAttribute('points'))!.split(' ');
    for (const p of points) expect(p).toMatch(/^\d+(\.\d)?,\d+(\.\d)?$/);
    expect(await row(backend.kernelId).locator('td.memory .value').innerText()).toMatch(/^\d+(\.\d)? (KiB|MiB|GiB)$/);
    expect(await row(backend.kernelId).locator('td.cpu title').textContent()).toMatch(/^CPU %, last \d+ readings$/);
    await page.screenshot({ path: join(artifacts, 'dashboard-1280x800.png') });

    // Dark mode: the page follows the system setting, the line stays visible on the dark table.
    await page.emulateMedia({ colorScheme: 'dark' });
    const colours = await page.evaluate(() => ({
      body: getComputedStyle(document.body).backgroundColor,
      line: getComputedStyle(document.querySelector('svg.spark polyline')!).stroke,
    }));
    expect(colours).toEqual({ body: 'rgb(18, 18, 18)', line: 'rgb(144, 202, 249)' });
    await page.screenshot({ path: join(artifacts, '06-dark.png') });

    // Phone width: the page itself never scrolls sideways (the table scrolls inside its panel),
    // and a backend's buttons can be reached there.
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const stop = row(backend.kernelId).getByRole('button', { name: 'stop' });
    await stop.scrollIntoViewIfNeeded();
    expect(await stop.isVisible()).toBe(true);
    const box = (await stop.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(artifacts, '07-phone-390.png') });
  });
});
