/**
 * What a person does and sees in a JupyterLab notebook page, for tests that drive a real
 * JupyterLab in Chromium: cells, their outputs and prompts, the kernel status in the status bar,
 * and screenshots. Every wait is on the page (a selector, a text, a recorded status change);
 * the timeouts only turn a broken run into a failure instead of a hang.
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** Generous: the machine is shared and a cold backend start can take many seconds. */
export const WAIT_MS = 120_000;

export interface NotebookCell {
  source: string;
  metadata?: Record<string, unknown>;
}

/** An nbformat 4.5 notebook on the LLMSpell Fleet kernelspec (or `kernelName`), never run. */
export function notebookJson(options: { cells: NotebookCell[]; llmspell?: Record<string, string>; kernelName?: string; displayName?: string }): string {
  const metadata: Record<string, unknown> = {
    kernelspec: { name: options.kernelName ?? 'llmspell-fleet', display_name: options.displayName ?? 'LLMSpell Fleet', language: 'lua' },
  };
  if (options.llmspell) metadata.llmspell = options.llmspell;
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata,
    cells: options.cells.map((cell, i) => ({
      cell_type: 'code',
      id: `cell-${i + 1}`,
      metadata: cell.metadata ?? {},
      source: cell.source,
      execution_count: null,
      outputs: [],
    })),
  };
  return JSON.stringify(notebook, null, 1);
}

export function codeCell(page: Page, index: number): Locator {
  return page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell').nth(index);
}

/** The cell's outputs, one string each (a progress notice of the router is one of them). */
export async function outputTexts(cell: Locator): Promise<string[]> {
  const texts = await cell.locator('.jp-OutputArea-output').allInnerTexts();
  return texts.map((t) => t.trim());
}

/** Waits until one of the cell's outputs contains `text`. */
export async function waitForOutput(cell: Locator, text: string | RegExp, timeout = WAIT_MS): Promise<void> {
  await cell.locator('.jp-OutputArea-output', { hasText: text }).first().waitFor({ timeout });
}

/** The execution count in the cell's input prompt (`[3]:`), or null while it has none (`[ ]:`, `[*]:`). */
export async function inputCount(cell: Locator): Promise<number | null> {
  const prompt = (await cell.locator('.jp-InputPrompt').innerText()).trim();
  const match = /^\[(\d+)\]:$/.exec(prompt);
  return match ? Number(match[1]) : null;
}

/**
 * Waits for "<kernel display name> | <status>" in the status bar. A keystroke or command sent
 * before the kernel is idle is lost, so every test waits for Idle before it runs anything.
 */
export async function waitForKernelStatus(page: Page, displayName: string, status = 'Idle', timeout = WAIT_MS): Promise<void> {
  const escaped = displayName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await page.locator('#jp-main-statusbar').getByText(new RegExp(`${escaped} \\| ${status}`)).waitFor({ timeout });
}

/** Runs one cell as a person does: click into it, Shift+Enter. */
export async function runCell(page: Page, index: number): Promise<void> {
  await codeCell(page, index).locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
}

export async function runAllCells(page: Page): Promise<void> {
  await page.locator('#jp-menu-panel').getByRole('menuitem', { name: 'Run', exact: true }).click();
  await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
}

/** A notebook toolbar button by its item name ("interrupt", "restart", "kernelName", ...). */
export function toolbarItem(page: Page, name: string): Locator {
  return page.locator(`.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar [data-jp-item-name="${name}"]`);
}

/**
 * Records every kernel status the status bar shows from now on (a MutationObserver in the
 * page), so that a short-lived one such as "Restarting" cannot be missed between two polls.
 */
export async function recordKernelStatuses(page: Page, displayName: string): Promise<void> {
  await page.evaluate((name) => {
    const w = window as unknown as { kernelStatuses?: string[] };
    w.kernelStatuses = [];
    const bar = document.querySelector('#jp-main-statusbar');
    if (!bar) throw new Error('no status bar');
    const note = (): void => {
      const text = (bar as HTMLElement).innerText;
      const at = text.indexOf(`${name} | `);
      const status = at < 0 ? undefined : /^\w+/.exec(text.slice(at + name.length + 3))?.[0];
      const seen = w.kernelStatuses!;
      if (status && seen[seen.length - 1] !== status) seen.push(status);
    };
    new MutationObserver(note).observe(bar, { subtree: true, childList: true, characterData: true });
    note();
  }, displayName);
}

/** Waits until the recorded statuses contain `sequence` in that order (others may come between). */
export async function waitForStatusSequence(page: Page, sequence: string[], timeout = WAIT_MS): Promise<string[]> {
  await page.waitForFunction(
    (wanted) => {
      const seen = (window as unknown as { kernelStatuses?: string[] }).kernelStatuses ?? [];
      let next = 0;
      for (const status of seen) if (next < wanted.length && status === wanted[next]) next += 1;
      return next === wanted.length;
    },
    sequence,
    { timeout },
  );
  return page.evaluate(() => (window as unknown as { kernelStatuses?: string[] }).kernelStatuses ?? []);
}

/** Saves a screenshot of the page as <dir>/<name>.png and prints where it is. */
export async function screenshot(page: Page, dir: string, name: string, target?: Locator): Promise<string> {
  const file = join(dir, `${name}.png`);
  if (target) await target.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  console.log(`[jupyterlab] screenshot: ${file}`);
  return file;
}
