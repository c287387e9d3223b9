/**
 * Issue 8's "done when": a JupyterLab notebook routed to lua shows outputs under the right cells.
 * A real JupyterLab 4 in headless Chromium (playwright-core) opens a notebook whose metadata
 * routes to lua and whose last cell routes itself to javascript, runs all cells from the menu,
 * and each cell must show its own output. llmspell is the test double (real Lua 5.4) behind the
 * fleet's adapter; the javascript cell runs in tslab.
 */
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Locator, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, withJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, cli, stopFleetManager } from '../helpers/fleet-env.js';
import { CHROMIUM, JUPYTER_LAB, startJupyterLab, tail, writeLabSettings, type JupyterLab } from '../helpers/jupyterlab.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const DOUBLE = join(REPO_ROOT, 'test', 'fixtures', 'llmspell-double.mjs');
/** Each wait is bounded only so that a broken run fails with a screenshot instead of hanging. */
const WAIT_MS = 120_000;
const TEST_TIMEOUT_MS = 420_000;

const CELLS: { source: string; metadata: Record<string, unknown> }[] = [
  { source: 'print("hello from lua")', metadata: {} },
  { source: 'return 6 * 7', metadata: {} },
  { source: 'error("boom")', metadata: {} },
  { source: 'console.log("hi from js")', metadata: { llmspell: { runtime: 'javascript' } } },
];

function notebook(): unknown {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'llmspell-fleet', display_name: 'LLMSpell Fleet', language: 'lua' },
      language_info: { name: 'lua' },
      llmspell: { runtime: 'lua', provider: 'openai' },
    },
    cells: CELLS.map((cell, i) => ({
      cell_type: 'code',
      id: `cell-${i + 1}`,
      metadata: cell.metadata,
      source: cell.source,
      execution_count: null,
      outputs: [],
    })),
  };
}

/** `llmspell` on the env's PATH is the double, as a user's would be the real binary. */
async function putDoubleOnPath(jenv: JupyterEnv): Promise<void> {
  const bin = join(jenv.dir, 'bin');
  await mkdir(bin);
  const script = join(bin, 'llmspell');
  await writeFile(script, `#!/bin/sh\nexec "${process.execPath}" "${DOUBLE}" "$@"\n`);
  await chmod(script, 0o755);
  jenv.env.PATH = `${bin}:${jenv.env.PATH ?? ''}`;
  // As a user with a key: without one, the first lua cell would also show the adapter's notice
  // that LLM calls need it (tested in router-llmspell-adapter.test.ts). The double calls nothing.
  jenv.env.OPENAI_API_KEY = 'sk-jupyterlab-test-not-a-key';
}

/**
 * The fleet as a user sets it up: the kernelspec installed, no lingering backends. The default
 * runtime is python, so only the notebook's own metadata (read through JPY_SESSION_NAME, which
 * jupyter_server sets) can route its cells to lua.
 */
async function setUpFleet(jenv: JupyterEnv): Promise<void> {
  await cli(jenv, ['install', '--prefix', jenv.dir]);
  const toml = 'default_runtime = "python"\ndefault_provider = "openai"\nlinger_seconds = 0\n';
  await writeFile(join(jenv.homeDir, 'fleet.toml'), toml, { mode: 0o600 });
}

function codeCell(page: Page, index: number): Locator {
  return page.locator('.jp-NotebookPanel .jp-Notebook .jp-CodeCell').nth(index);
}

async function outputText(cell: Locator): Promise<string> {
  return (await cell.locator('.jp-OutputArea').innerText()).trim();
}

/** Opens the notebook, waits for the kernel, runs all cells from the Run menu, waits for every output. */
async function runNotebook(page: Page, lab: JupyterLab): Promise<void> {
  const started = Date.now();
  await page.goto(lab.labUrl('routed.ipynb'), { timeout: WAIT_MS });
  // A keystroke or command sent before the kernel is idle is lost: wait for "LLMSpell Fleet | Idle".
  await page.locator('#jp-main-statusbar').getByText(/LLMSpell Fleet \| Idle/).waitFor({ timeout: WAIT_MS });
  const idle = Date.now();
  log(`kernel idle ${idle - started} ms after opening the notebook`);
  await page.locator('#jp-menu-panel').getByRole('menuitem', { name: 'Run', exact: true }).click();
  await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
  const expected = ['hello from lua', '42', 'boom', 'hi from js'];
  for (const [i, text] of expected.entries()) {
    await codeCell(page, i).locator('.jp-OutputArea-output', { hasText: text }).waitFor({ timeout: WAIT_MS });
  }
  log(`all four outputs shown ${Date.now() - idle} ms after Run All Cells`);
}

/** Each cell shows exactly its own output: nothing missing, nothing that belongs to another cell. */
async function expectOutputsUnderTheirCells(page: Page): Promise<void> {
  const outputs = await Promise.all(CELLS.map((_, i) => outputText(codeCell(page, i))));
  log(`outputs: ${JSON.stringify(outputs)}`);
  expect(outputs[0]).toBe('hello from lua');
  // the result, with its execution count as the output prompt
  expect(outputs[1]).toMatch(/^\[\d+\]:\s*42$/);
  expect(await codeCell(page, 1).locator('.jp-OutputArea-executeResult').count()).toBe(1);
  expect(outputs[2]).toContain('LuaRuntimeError');
  expect(outputs[2]).toContain('boom');
  expect(outputs[2]).not.toContain('engine.rs');
  expect(outputs[2]).not.toMatch(/hello from lua|hi from js/);
  // Its backend starts for this cell: the progress display, updated in place to the start time, comes first.
  expect(outputs[3]).toMatch(/^javascript\/openai backend started in \d+\.\d s\s+hi from js$/);
  // every cell ran, in order: its input prompt shows an execution count
  const prompts = await Promise.all(CELLS.map((_, i) => codeCell(page, i).locator('.jp-InputPrompt').innerText()));
  const counts = prompts.map((p) => Number(/^\[(\d+)\]:$/.exec(p.trim())?.[1]));
  expect(counts.every((n) => Number.isInteger(n) && n > 0), `input prompts ${JSON.stringify(prompts)}`).toBe(true);
}

function log(message: string): void {
  console.log(`[jupyterlab] ${message}`);
}

async function screenshotOnFailure(page: Page, error: unknown, lab: JupyterLab): Promise<never> {
  const dir = await mkdtemp(join(tmpdir(), 'llmspell-fleet-jupyterlab-failure-'));
  const file = join(dir, 'jupyterlab.png');
  const shot = await page.screenshot({ path: file, fullPage: true }).then(
    () => `screenshot: ${file}`,
    (e: unknown) => `no screenshot (${String(e)})`,
  );
  const message = error instanceof Error ? error.message : String(error);
  throw new Error(`${message}\n${shot}\njupyter lab output (tail):\n${tail(lab.output())}`, { cause: error });
}

/** Shuts down every kernel through the server's REST API (each DELETE returns once its kernel is gone). */
async function shutDownKernels(lab: JupyterLab): Promise<void> {
  const sessions = await lab.api<{ id: string }[]>('/api/sessions');
  for (const session of sessions) await lab.api(`/api/sessions/${session.id}`, 'DELETE');
  const kernels = await lab.api<unknown[]>('/api/kernels');
  expect(kernels).toEqual([]);
}

beforeAll(() => {
  for (const [path, what] of [
    [CLI, 'build first with `npm run build`'],
    [JUPYTER_LAB, 'install the dev requirements (scripts/setup.sh)'],
    [CHROMIUM, 'install Debian\'s chromium (scripts/setup.sh)'],
  ] as const) {
    if (!existsSync(path)) throw new Error(`${path} is missing: ${what}`);
  }
});

describe('JupyterLab in headless Chromium', () => {
  it('runs a notebook routed to lua (and one javascript cell): every output under its own cell', async () => {
    await withJupyterEnv(async (jenv) => {
      await putDoubleOnPath(jenv);
      await setUpFleet(jenv);
      await writeLabSettings(jenv);
      const root = join(jenv.dir, 'notebooks');
      await mkdir(root);
      await writeFile(join(root, 'routed.ipynb'), JSON.stringify(notebook(), null, 1));

      const labStart = Date.now();
      const lab = await startJupyterLab(jenv, root);
      log(`jupyter lab listening after ${Date.now() - labStart} ms`);
      try {
        // The browser gets the env too, so the leftover check below would find it as well.
        const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], env: jenv.env, timeout: WAIT_MS });
        try {
          const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
          try {
            await runNotebook(page, lab);
            await expectOutputsUnderTheirCells(page);
          } catch (error) {
            await screenshotOnFailure(page, error, lab);
          }
        } finally {
          await browser.close();
        }
        await shutDownKernels(lab);
      } finally {
        await lab.stop();
      }
      await stopFleetManager(jenv.homeDir);
      // Router, manager, adapter, the double, tslab, the server and Chromium all carry the env's dir.
      await waitForNoProcesses(jenv.dir, 60_000);
    }, 30_000);
  }, TEST_TIMEOUT_MS);
});
