/**
 * A notebook mixing runtimes, as a person sees it in a real JupyterLab 4 (headless Chromium,
 * playwright-core), through the router. The notebook's `metadata.llmspell` routes it to lua
 * (llmspell's test double, real Lua 5.4, behind the fleet's adapter); two cells route
 * themselves by cell metadata, one to python (ipykernel), one to javascript (tslab). Run All
 * Cells from the menu; every cell must show its own output, and the prompts must read like one
 * kernel session. Screenshots and the time to the first routed result go to
 * test-artifacts/jupyterlab-notebook/; its notebook.png is the picture in the README
 * (docs/jupyterlab-notebook.png).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshArtifactsDir, writeJsonArtifact } from '../helpers/artifacts.js';
import {
  codeCell,
  inputCount,
  notebookJson,
  outputTexts,
  runAllCells,
  screenshot,
  waitForKernelStatus,
  waitForOutput,
  WAIT_MS,
  type NotebookCell,
} from '../helpers/lab-page.js';
import { startLabSession, type LabSession } from '../helpers/lab-session.js';

const SETUP_TIMEOUT_MS = 420_000;

interface RoutedCell extends NotebookCell {
  /** Text one of the cell's outputs must contain once it ran; no output of another cell may start with it. */
  expected: string;
}

const CELLS: RoutedCell[] = [
  { source: '-- lua, from the notebook metadata\nprint("hello from lua")', expected: 'hello from lua' },
  { source: 'return 6 * 7', expected: '42' },
  {
    source: '# python, from the cell metadata\nsquares = [n * n for n in range(6)]\nsquares',
    metadata: { llmspell: { runtime: 'python' } },
    expected: '[0, 1, 4, 9, 16, 25]',
  },
  {
    source: '// javascript, from the cell metadata\nconsole.log("hi from js")',
    metadata: { llmspell: { runtime: 'javascript' } },
    expected: 'hi from js',
  },
  { source: 'error("boom")', expected: 'LuaRuntimeError: line 1: boom' },
];

interface Timing {
  /** page.goto until the notebook's first cell shows (JupyterLab's own page load). */
  openToNotebookShownMs: number;
  /** page.goto until the status bar says "LLMSpell Fleet | Idle" (server page load, kernel start, lua backend). */
  openToIdleMs: number;
  /** Run All Cells until the first cell's output shows. */
  runAllToFirstResultMs: number;
  /** What a person waits for: opening the notebook until the first routed result shows. */
  openToFirstResultMs: number;
  /** Run All Cells until every cell shows its output (python and javascript backends start meanwhile). */
  runAllToLastResultMs: number;
}

function log(message: string): void {
  console.log(`[jupyterlab] ${message}`);
}

describe('a notebook mixing lua, python and javascript cells in JupyterLab, routed by notebook and cell metadata', () => {
  let session: LabSession | undefined;
  let page: Page;
  let outputs: string[][] = [];
  let counts: (number | null)[] = [];
  let executeResults: number[] = [];

  beforeAll(async () => {
    const artifacts = await freshArtifactsDir('jupyterlab-notebook');
    session = await startLabSession();
    const lab = session;
    await lab.writeNotebook('mixed.ipynb', notebookJson({ llmspell: { runtime: 'lua', provider: 'openai' }, cells: CELLS }));

    const opened = Date.now();
    page = await lab.openNotebook('mixed.ipynb');
    await lab.withFailureShot(page, artifacts, 'run-all', async () => {
      await codeCell(page, 0).waitFor({ timeout: WAIT_MS });
      const shown = Date.now();
      await waitForKernelStatus(page, 'LLMSpell Fleet');
      const idle = Date.now();
      await screenshot(page, artifacts, '01-opened-kernel-idle');
      await runAllCells(page);
      const runAll = Date.now();
      await waitForOutput(codeCell(page, 0), CELLS[0]!.expected);
      const first = Date.now();
      for (const [i, cell] of CELLS.entries()) await waitForOutput(codeCell(page, i), cell.expected);
      const last = Date.now();
      await waitForKernelStatus(page, 'LLMSpell Fleet');
      const timing: Timing = {
        openToNotebookShownMs: shown - opened,
        openToIdleMs: idle - opened,
        runAllToFirstResultMs: first - runAll,
        openToFirstResultMs: first - opened,
        runAllToLastResultMs: last - runAll,
      };
      log(`timing: ${JSON.stringify(timing)}`);
      log(`timing written to ${await writeJsonArtifact(artifacts, 'timing.json', timing)}`);
      await screenshot(page, artifacts, '02-run-all-outputs');
      // The notebook alone (toolbar and cells, no menus or empty space): the README's picture.
      const panel = await page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)').boundingBox();
      const lastCell = await codeCell(page, CELLS.length - 1).boundingBox();
      if (!panel || !lastCell) throw new Error('the notebook panel or its last cell is not visible');
      const clip = { x: panel.x, y: panel.y, width: panel.width, height: Math.min(panel.height, lastCell.y + lastCell.height + 12 - panel.y) };
      await page.screenshot({ path: join(artifacts, 'notebook.png'), clip });
      log(`screenshot: ${join(artifacts, 'notebook.png')}`);
      outputs = await Promise.all(CELLS.map((_, i) => outputTexts(codeCell(page, i))));
      counts = await Promise.all(CELLS.map((_, i) => inputCount(codeCell(page, i))));
      executeResults = await Promise.all(CELLS.map((_, i) => codeCell(page, i).locator('.jp-OutputArea-executeResult').count()));
      log(`outputs: ${JSON.stringify(outputs)}; input prompts: ${JSON.stringify(counts)}`);
    });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await session?.close();
  }, 180_000);

  it('shows every output under its own cell, from the backend its metadata names', () => {
    for (const [i, cell] of CELLS.entries()) {
      const mine = outputs[i] ?? [];
      expect(mine.some((text) => text.includes(cell.expected)), `cell ${i + 1} outputs ${JSON.stringify(mine)}`).toBe(true);
      // (starts with: a note of the router's own in the cell, such as how long a backend took to
      // start, may contain a short result like "42" without being that result)
      for (const [j, other] of CELLS.entries()) {
        if (j === i) continue;
        expect(mine.filter((text) => text.startsWith(other.expected)), `cell ${i + 1} shows cell ${j + 1}'s output`).toEqual([]);
      }
    }
    // results are execute_results (with an output prompt), prints are streams
    expect(executeResults).toEqual([0, 1, 1, 0, 0]);
    // the lua error as the adapter shapes it: the cell's line, the Lua traceback, no engine.rs
    const error = (outputs[4] ?? []).join('\n');
    expect(error).toContain('stack traceback');
    expect(error).not.toContain('engine.rs');
  });

  // Needs one execution count per session across backends (issue 13, item 1): each backend
  // counting on its own numbers these [1], [2], [1], [1], [3].
  it('numbers the cells [1], [2], [3], ... in cell order, like one kernel session', () => {
    expect(counts).toEqual(CELLS.map((_, i) => i + 1));
  });
});
