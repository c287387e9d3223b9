/**
 * JupyterLab's kernel controls through the router, in a real JupyterLab 4 in headless Chromium:
 * an ipywidgets slider (comms both ways), the toolbar's interrupt and restart buttons, and the
 * kernel picker listing the alias kernelspecs (installed into the test's own Jupyter path). The
 * notebooks route to python (ipykernel) by their metadata. Each test opens its own notebook and
 * shuts its kernel down at the end, so the shared python backend (linger 0) starts fresh for the
 * next. Screenshots of each step go to test-artifacts/jupyterlab-kernel/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshArtifactsDir } from '../helpers/artifacts.js';
import {
  codeCell,
  inputCount,
  notebookJson,
  outputTexts,
  recordKernelStatuses,
  runCell,
  screenshot,
  toolbarItem,
  waitForKernelStatus,
  waitForOutput,
  waitForStatusSequence,
  WAIT_MS,
} from '../helpers/lab-page.js';
import { startLabSession, type LabSession } from '../helpers/lab-session.js';

const FLEET = 'LLMSpell Fleet';
const ALIASES: [string, string][] = [
  ['javascript', 'openai'],
  ['lua', 'anthropic'],
];
const TEST_TIMEOUT_MS = 300_000;
const PYTHON = { runtime: 'python', provider: 'openai' };

describe('JupyterLab kernel controls through the router', () => {
  let session: LabSession;
  let artifacts: string;

  beforeAll(async () => {
    artifacts = await freshArtifactsDir('jupyterlab-kernel');
    session = await startLabSession({ aliases: ALIASES });
  }, 180_000);

  afterAll(async () => {
    await session?.close();
  }, 180_000);

  /** Opens `name` with these cells, waits for the kernel, runs `fn`, then closes the page and shuts its kernel down. */
  async function inNotebook(name: string, cells: string[], fn: (page: Page) => Promise<void>): Promise<void> {
    await session.writeNotebook(`${name}.ipynb`, notebookJson({ llmspell: PYTHON, cells: cells.map((source) => ({ source })) }));
    const page = await session.openNotebook(`${name}.ipynb`);
    try {
      await session.withFailureShot(page, artifacts, name, async () => {
        await waitForKernelStatus(page, FLEET);
        await fn(page);
      });
    } finally {
      await page.close();
      await session.shutDownKernels();
    }
  }

  it('moves an ipywidgets slider in the page and the kernel sees the new value (comms through the router)', async () => {
    const cells = [
      'import ipywidgets as widgets\nslider = widgets.IntSlider(value=3, min=0, max=10, description="level")\nslider',
      'print("the kernel sees", slider.value)',
      'slider.value = 6',
    ];
    await inNotebook('widgets', cells, async (page) => {
      const widgetCell = codeCell(page, 0);
      await runCell(page, 0);
      const handle = widgetCell.locator('.widget-slider .noUi-handle');
      const readout = (value: number) => widgetCell.locator('.widget-readout', { hasText: new RegExp(`^${value}$`) });
      await handle.waitFor({ timeout: WAIT_MS });
      await readout(3).waitFor({ timeout: WAIT_MS });
      await screenshot(page, artifacts, 'widgets-1-slider-at-3');
      // One key, one state update on the widget's comm (several quick moves would be batched
      // by the widget manager until the kernel is idle again, which the next cell could overtake).
      await handle.focus();
      await page.keyboard.press('End');
      await readout(10).waitFor({ timeout: WAIT_MS });
      await screenshot(page, artifacts, 'widgets-2-slider-moved-to-10');
      await runCell(page, 1);
      await waitForOutput(codeCell(page, 1), /the kernel sees \d+/);
      expect(await outputTexts(codeCell(page, 1))).toContain('the kernel sees 10');
      // and the other way: the kernel sets the value, the slider in the page follows
      await runCell(page, 2);
      await readout(6).waitFor({ timeout: WAIT_MS });
      await screenshot(page, artifacts, 'widgets-3-kernel-set-6');
    });
  }, TEST_TIMEOUT_MS);

  it('interrupts a running cell from the toolbar: KeyboardInterrupt in the cell, the next cell runs', async () => {
    const cells = ['import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.1)', 'print("after " + "the interrupt")'];
    await inNotebook('interrupt', cells, async (page) => {
      await runCell(page, 0);
      await waitForOutput(codeCell(page, 0), 'looping');
      await waitForKernelStatus(page, FLEET, 'Busy');
      await screenshot(page, artifacts, 'interrupt-1-running');
      await toolbarItem(page, 'interrupt').locator('button, jp-button').first().click();
      await waitForOutput(codeCell(page, 0), 'KeyboardInterrupt');
      await waitForKernelStatus(page, FLEET);
      await runCell(page, 1);
      await waitForOutput(codeCell(page, 1), 'after the interrupt');
      await screenshot(page, artifacts, 'interrupt-2-next-cell-ran');
      expect(await inputCount(codeCell(page, 1))).toBe(2);
    });
  }, TEST_TIMEOUT_MS);

  it('restarts from the toolbar after the confirm dialog: variables gone, counts start again', async () => {
    const cells = ['secret = 41\nprint("secret + 1 =", secret + 1)', 'print("defined:", "secret" in globals())'];
    await inNotebook('restart', cells, async (page) => {
      await runCell(page, 0);
      await waitForOutput(codeCell(page, 0), 'secret + 1 = 42');
      await runCell(page, 1);
      await waitForOutput(codeCell(page, 1), 'defined: True');
      expect(await inputCount(codeCell(page, 1))).toBe(2);
      await recordKernelStatuses(page, FLEET);
      await toolbarItem(page, 'restart').locator('button, jp-button').first().click();
      const dialog = page.locator('.jp-Dialog');
      await dialog.getByText(/Restart Kernel\?/).waitFor({ timeout: WAIT_MS });
      await screenshot(page, artifacts, 'restart-1-confirm-dialog');
      await dialog.locator('.jp-Dialog-button.jp-mod-accept', { hasText: 'Restart' }).click();
      const statuses = await waitForStatusSequence(page, ['Restarting', 'Idle']);
      console.log(`[jupyterlab] kernel statuses around the restart: ${statuses.join(' -> ')}`);
      // A `restarting` status from its own kernel would make JupyterLab say "The kernel ... appears
      // to have died" in a dialog (its sign of an automatic restart after a crash).
      expect(await page.locator('.jp-Dialog').allInnerTexts(), 'a dialog after the restart').toEqual([]);
      await runCell(page, 1);
      await waitForOutput(codeCell(page, 1), 'defined: False');
      expect(await inputCount(codeCell(page, 1))).toBe(1);
      await screenshot(page, artifacts, 'restart-2-variable-gone');
    });
  }, TEST_TIMEOUT_MS);

  it('lists the alias kernelspecs in the kernel picker, and the picked alias routes the notebook', async () => {
    const cells = ['console.log("picked " + "javascript")'];
    await inNotebook('picker', cells, async (page) => {
      await toolbarItem(page, 'kernelName').locator('button, jp-button').first().click();
      const dialog = page.locator('.jp-Dialog');
      const picker = dialog.locator('select');
      await picker.waitFor({ timeout: WAIT_MS });
      const names = (await picker.locator('option').allInnerTexts()).map((t) => t.trim());
      console.log(`[jupyterlab] kernel picker: ${JSON.stringify(names)}`);
      expect(names).toEqual(expect.arrayContaining([FLEET, `${FLEET} (javascript, openai)`, `${FLEET} (lua, anthropic)`]));
      await screenshot(page, artifacts, 'picker-1-aliases-listed');
      await picker.selectOption({ label: `${FLEET} (javascript, openai)` });
      await dialog.locator('.jp-Dialog-button.jp-mod-accept', { hasText: 'Select' }).click();
      // The alias asks for javascript, which wins over the notebook's metadata (python).
      await waitForKernelStatus(page, `${FLEET} (javascript, openai)`);
      await runCell(page, 0);
      await waitForOutput(codeCell(page, 0), 'picked javascript');
      await screenshot(page, artifacts, 'picker-2-javascript-alias-ran');
    });
  }, TEST_TIMEOUT_MS);
});
