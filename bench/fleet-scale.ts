import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagerClient } from '../src/fleet/manager/client.js';
import { processesMentioning } from '../src/fleet/manager/proc.js';
import { root } from './harness.js';
import { api, cpuSeconds, EventWatch, managerHttp, residentMb, type Manager } from './fleet-watch.js';
import { hostProcesses, samplingCost, withIdleProcesses, type SamplingCost } from './sampling-cost.js';
import { median, percentile, table } from './stats.js';

/**
 * The manager at scale (issue #9, item 8): its CPU and memory with N backends, idle and while
 * it is watched (a dashboard's list every 2 s, a Prometheus scrape every 1 s, a real dashboard
 * page), how long a scrape takes, and how long a spawn takes to show on the event stream and on
 * the page. Backends are the stand-in kernel (test/fixtures/llmspell-standin.mjs: a small node
 * process speaking the Jupyter protocol), so 20 of them fit on a small machine.
 */
export const SCALE_STEPS = [1, 5, 10, 20] as const;
const CHROMIUM = '/usr/bin/chromium';
const STANDIN = join(root, 'test', 'fixtures', 'llmspell-standin.mjs');
const REQUIREMENT = { runtime: 'standin', provider: 'none' };
/** Back-to-back requests whose manager CPU is divided among them: enough to be well above /proc's 10 ms CPU tick. */
const BURST = 100;
/** Other processes a busy host runs, for the sampling cost there. */
const CROWD = 400;

interface Step {
  n: number;
  idlePercent: number;
  pollPercent: number;
  scrapePercent: number;
  pagePercent?: number;
  /** Manager CPU ms per list (GET /api/v1/backends), from a burst of BURST back to back. */
  listMs: number;
  /** Manager CPU ms per /metrics scrape, from a burst of BURST back to back. */
  scrapeCpuMs: number;
  sampling: SamplingCost;
  scrapeP50: number;
  scrapeP95: number;
  rssMb: number;
  /** ms from the spawn request to its event on /api/v1/events, spawns of this step. */
  spawnedMs: number[];
  readyMs: number[];
  /** ms from the spawn request to its row on the dashboard page. */
  pageMs: number[];
  /** ms from the manager's noting a change to its event arriving on the stream (its `time` field to arrival). */
  deliveryMs: number[];
  /** The manager's V8 heap in use (MB), from its own /metrics. */
  heapMb: number;
  /** ms from the `spawned` event on the stream to the row on the page. */
  pageAfterEventMs: number[];
  /** Sampling cost on a host crowded with CROWD more processes (at the last step only). */
  crowded?: SamplingCost & { scrapeCpuMs: number };
}

/** Pure: CPU seconds used over a window of `windowMs`, as % of one core. */
export function cpuPercent(cpuDeltaSeconds: number, windowMs: number): number {
  return windowMs > 0 ? (cpuDeltaSeconds * 100_000) / windowMs : Number.NaN;
}

/** Runs `op` every `everyMs` for `windowMs`, and measures the manager's CPU meanwhile. */
async function observe(m: Manager, windowMs: number, everyMs: number | undefined, op: () => Promise<unknown>): Promise<{ cpu: number }> {
  const before = cpuSeconds(m.pid);
  const start = performance.now();
  if (everyMs === undefined) await sleep(windowMs);
  else {
    for (let next = start; next < start + windowMs; next += everyMs) {
      await sleep(Math.max(0, next - performance.now()));
      await op();
    }
    await sleep(Math.max(0, start + windowMs - performance.now()));
  }
  return { cpu: cpuSeconds(m.pid) - before };
}

/** Manager CPU ms per request, from BURST of them back to back. */
async function burstCpuMs(m: Manager, op: () => Promise<unknown>): Promise<number> {
  const before = cpuSeconds(m.pid);
  for (let i = 0; i < BURST; i++) await op();
  return ((cpuSeconds(m.pid) - before) * 1000) / BURST;
}

async function scrapeTimes(m: Manager, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await (await fetch(`${m.url}/metrics`)).text();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

type Page = import('playwright-core').Page;
type Browser = import('playwright-core').Browser;

/** The dashboard in headless Chromium, noting when each backend's row first appears. */
async function openDashboard(browser: Browser, m: Manager): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const seen: Record<string, number> = {};
    (window as unknown as { rowSeen: Record<string, number> }).rowSeen = seen;
    new MutationObserver(() => {
      for (const tr of document.querySelectorAll<HTMLElement>('tr[data-kernel-id]')) seen[tr.dataset.kernelId!] ??= performance.timeOrigin + performance.now();
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(`${m.url}/?token=${m.token}`);
  await page.waitForSelector('text=live');
  return page;
}

async function rowSeenAt(page: Page, kernelId: string): Promise<number> {
  const handle = await page.waitForFunction((id) => (window as unknown as { rowSeen: Record<string, number> }).rowSeen[id], kernelId, { timeout: 60_000 });
  return (await handle.jsonValue()) as number;
}

async function spawnTimed(m: Manager, events: EventWatch, page: Page | undefined, step: Step): Promise<void> {
  const t0 = performance.now();
  const epoch0 = performance.timeOrigin + t0;
  const res = await api(m, '/api/v1/backends', { method: 'POST', body: JSON.stringify(REQUIREMENT) });
  const { kernelId } = (await res.json()) as { kernelId: string };
  step.spawnedMs.push((await events.when('spawned', kernelId)) - t0);
  step.readyMs.push((await events.when('ready', kernelId)) - t0);
  for (const type of ['spawned', 'ready']) step.deliveryMs.push(events.delivery.get(`${type} ${kernelId}`) ?? Number.NaN);
  if (page === undefined) return;
  const row = (await rowSeenAt(page, kernelId)) - epoch0;
  step.pageMs.push(row);
  step.pageAfterEventMs.push(row - step.spawnedMs.at(-1)!);
}

async function measureStep(m: Manager, n: number, have: number, events: EventWatch, browser: Browser | undefined, windowMs: number, last: boolean): Promise<Step> {
  const step: Step = { n, idlePercent: 0, pollPercent: 0, scrapePercent: 0, listMs: 0, scrapeCpuMs: 0, scrapeP50: 0, scrapeP95: 0, rssMb: 0, spawnedMs: [], readyMs: [], pageMs: [], pageAfterEventMs: [], deliveryMs: [], heapMb: 0, sampling: { hostProcesses: 0, walkMs: 0, scanMs: 0 } };
  const page = browser === undefined ? undefined : await openDashboard(browser, m);
  try {
    for (let i = have; i < n; i++) await spawnTimed(m, events, page, step);
    if (page !== undefined) {
      await sleep(2000); // the page's reads after the last event settle
      step.pagePercent = cpuPercent((await observe(m, windowMs, undefined, async () => undefined)).cpu, windowMs);
    }
  } finally {
    await page?.close();
  }
  await sleep(1000);
  step.idlePercent = cpuPercent((await observe(m, windowMs, undefined, async () => undefined)).cpu, windowMs);
  const poll = await observe(m, windowMs, 2000, () => api(m, '/api/v1/backends').then((r) => r.json()));
  step.pollPercent = cpuPercent(poll.cpu, windowMs);
  const scrape = await observe(m, windowMs, 1000, () => fetch(`${m.url}/metrics`).then((r) => r.text()));
  step.scrapePercent = cpuPercent(scrape.cpu, windowMs);
  step.listMs = await burstCpuMs(m, () => api(m, '/api/v1/backends').then((r) => r.json()));
  step.scrapeCpuMs = await burstCpuMs(m, () => fetch(`${m.url}/metrics`).then((r) => r.text()));
  const pgids = ((await (await api(m, '/api/v1/backends')).json()) as { backends: { pid: number }[] }).backends.map((b) => b.pid);
  step.sampling = samplingCost(pgids);
  if (last) step.crowded = await withIdleProcesses(CROWD, async () => ({ ...samplingCost(pgids), scrapeCpuMs: await burstCpuMs(m, () => fetch(`${m.url}/metrics`).then((r) => r.text())) }));
  const times = await scrapeTimes(m, 20);
  step.scrapeP50 = percentile(times, 50);
  step.scrapeP95 = percentile(times, 95);
  step.rssMb = residentMb(m.pid);
  const heap = /^llmspell_fleet_manager_nodejs_heap_size_used_bytes (\S+)$/m.exec(await (await fetch(`${m.url}/metrics`)).text());
  step.heapMb = Number(heap?.[1] ?? Number.NaN) / 1024 / 1024;
  return step;
}

async function shutdown(home: string, pid: number | undefined): Promise<void> {
  const client = await ManagerClient.connect({ home, autostart: false }).catch(() => undefined);
  if (client !== undefined) {
    await client.request({ op: 'shutdown' }).catch(() => undefined);
    await client.closed;
  }
  const deadline = Date.now() + 10_000;
  while (pid !== undefined && existsSync(`/proc/${pid}`) && Date.now() < deadline) await sleep(50);
  // Every backend's argv names its connection file in the home: none may outlive the bench.
  const left = processesMentioning(home).filter((p) => p !== process.pid);
  if (left.length > 0 || (pid !== undefined && existsSync(`/proc/${pid}`))) throw new Error(`processes left after the fleet-scale bench: manager ${pid}, others ${left.join(', ') || 'none'}; stop them by pid`);
}

function rows(steps: Step[]): { cpu: string; latency: string; sampling: string } {
  const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(1));
  const f2 = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(2));
  const cpu = table(
    ['backends', 'manager RSS / V8 heap used (MB)', 'CPU idle (%)', 'CPU, list every 2 s (%)', 'CPU, dashboard page open (%)', 'CPU, scrape every 1 s (%)', 'CPU per list (ms)', 'CPU per scrape (ms)', 'per scrape per backend (ms)', 'scrape p50 / p95 (ms)'],
    steps.map((s) => [String(s.n), `${f1(s.rssMb)} / ${f1(s.heapMb)}`, f1(s.idlePercent), f1(s.pollPercent), f1(s.pagePercent), f1(s.scrapePercent), f2(s.listMs), f2(s.scrapeCpuMs), f2(s.scrapeCpuMs / s.n), `${f1(s.scrapeP50)} / ${f1(s.scrapeP95)}`]),
  );
  const latency = table(
    ['spawns to reach', 'spawn → `spawned` event (ms, median)', 'spawn → `ready` event (ms, median)', 'manager notes the change → event on the stream (ms, median)', 'spawn → row on the dashboard page (ms, median)', '`spawned` event → row on the page (ms, median)'],
    steps.map((s) => [`${s.n} (${s.spawnedMs.length} spawn${s.spawnedMs.length === 1 ? '' : 's'})`, f1(median(s.spawnedMs)), f1(median(s.readyMs)), f1(median(s.deliveryMs)), f1(median(s.pageMs)), f1(median(s.pageAfterEventMs))]),
  );
  const samplingRow = (label: string, c: SamplingCost, scrapeCpuMs: number) => [label, String(c.hostProcesses), f2(c.walkMs), f2(c.scanMs), f2(scrapeCpuMs)];
  const sampling = table(
    ['reading the backends\' process groups once (median of 50)', 'processes on the host', 'walk from each leader, as the manager does (ms)', 'scan of all /proc, as it did (ms)', 'manager CPU per scrape (ms)'],
    [
      ...steps.map((s) => samplingRow(`${s.n} backend${s.n === 1 ? '' : 's'}`, s.sampling, s.scrapeCpuMs)),
      ...steps.flatMap((s) => (s.crowded === undefined ? [] : [samplingRow(`${s.n} backends, ${CROWD} more idle processes on the host`, s.crowded, s.crowded.scrapeCpuMs)])),
    ],
  );
  return { cpu, latency, sampling };
}

export async function fleetScaleReport(dir: string, options: { windowMs: number; steps?: readonly number[] }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const home = join(dir, 'scale-home');
  const config = join(dir, 'scale.toml');
  const argv = [process.execPath, STANDIN, 'kernel', 'start', '--port', '0', '--id', '{kernel_id}', '--connection-file', '{connection_file}'];
  // linger: backends spawned with no router stay for the whole bench.
  await writeFile(config, `default_runtime = "standin"\ndefault_provider = "none"\nlinger_seconds = 3600\n[runtimes.standin]\nargv = ${JSON.stringify(argv)}\nconnection = "kernel-writes"\n[providers.none]\n`, { mode: 0o600 });
  const loadBefore = loadavg()[0]!;
  const processesBefore = hostProcesses();
  let m: Manager | undefined;
  let browser: Browser | undefined;
  let events: EventWatch | undefined;
  const steps: Step[] = [];
  try {
    const client = await ManagerClient.connect({ home, env: { ...process.env, LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config } });
    client.close();
    m = await managerHttp(home);
    events = await EventWatch.open(m);
    if (existsSync(CHROMIUM)) {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    }
    let have = 0;
    const plan = options.steps ?? SCALE_STEPS;
    for (const n of plan) {
      steps.push(await measureStep(m, n, have, events, browser, options.windowMs, n === plan.at(-1)));
      have = n;
    }
  } finally {
    await events?.close();
    await browser?.close();
    await shutdown(home, m?.pid);
  }
  const { cpu, latency, sampling } = rows(steps);
  const load = `load average (1 min) ${loadBefore.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end; ${processesBefore} processes on the host at the start; each window ${options.windowMs / 1000} s; CPU % of one core`;
  return [load, cpu, latency, sampling].join('\n\n');
}
