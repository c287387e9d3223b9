/**
 * One JupyterLab test setting: a JupyterEnv with the fleet installed as a user would (the
 * kernelspec, alias kernelspecs, the llmspell double on PATH as `llmspell`), a JupyterLab server
 * on its notebooks dir and a headless Chromium. `close` shuts everything down and fails if any
 * process the setting started (server, Chromium, routers, manager, backends) is left.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { llmspellDoubleBin } from './llmspell-double.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeJupyterEnv, type JupyterEnv } from './e2e.js';
import { CLI, cli, stopFleetManager } from './fleet-env.js';
import { CHROMIUM, JUPYTER_LAB, startJupyterLab, tail, writeLabSettings, type JupyterLab } from './jupyterlab.js';
import { WAIT_MS } from './lab-page.js';
import { waitForNoProcesses } from './processes.js';


export interface LabSession {
  jenv: JupyterEnv;
  lab: JupyterLab;
  browser: Browser;
  /** The server's root dir: notebooks written here open as lab.labUrl(name). */
  root: string;
  /** Writes a notebook into the root dir. */
  writeNotebook(name: string, json: string): Promise<void>;
  /**
   * A fresh page (1280×1000) with the notebook open, and only it: `reset` drops the workspace
   * JupyterLab saved, which would reopen (and start kernels for) the notebooks of earlier pages.
   */
  openNotebook(name: string): Promise<Page>;
  /** Shuts down every kernel of the server (each notebook's router; with linger 0 its backends stop too). */
  shutDownKernels(): Promise<void>;
  /** Runs `fn`; on failure adds a screenshot (in `artifacts`) and the server's output to the error. */
  withFailureShot<T>(page: Page, artifacts: string, name: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Fails early, naming the missing piece, instead of a timeout deep inside a test. */
export function requireLabPieces(): void {
  for (const [path, what] of [
    [CLI, 'build first with `npm run build`'],
    [JUPYTER_LAB, 'install the dev requirements (scripts/setup.sh)'],
    [CHROMIUM, "install Debian's chromium (scripts/setup.sh)"],
  ] as const) {
    if (!existsSync(path)) throw new Error(`${path} is missing: ${what}`);
  }
}

/** `llmspell` on the env's PATH is the double, as a user's would be the real binary. */
async function putDoubleOnPath(jenv: JupyterEnv): Promise<void> {
  jenv.env.PATH = `${await llmspellDoubleBin(jenv.dir)}:${jenv.env.PATH ?? ''}`;
  // As a user with a key: without one, the first lua cell would also show the adapter's notice
  // that LLM calls need it (tested in router-llmspell-adapter.test.ts). The double calls nothing.
  jenv.env.OPENAI_API_KEY = 'sk-jupyterlab-test-not-a-key';
}

/**
 * The fleet as a user sets it up: the kernelspec and `aliases` (runtime, provider) installed
 * into the env's own JUPYTER_PATH, never the user's; default runtime python, no lingering.
 */
async function setUpFleet(jenv: JupyterEnv, aliases: [string, string][]): Promise<void> {
  await cli(jenv, ['install', '--prefix', jenv.dir]);
  for (const [runtime, provider] of aliases) {
    await cli(jenv, ['install', '--prefix', jenv.dir, '--runtime', runtime, '--provider', provider]);
  }
  const toml = 'default_runtime = "python"\ndefault_provider = "openai"\nlinger_seconds = 0\n';
  await writeFile(join(jenv.homeDir, 'fleet.toml'), toml, { mode: 0o600 });
}

export async function startLabSession(options: { aliases?: [string, string][] } = {}): Promise<LabSession> {
  requireLabPieces();
  const jenv = await makeJupyterEnv();
  let lab: JupyterLab | undefined;
  let browser: Browser | undefined;
  try {
    await putDoubleOnPath(jenv);
    await setUpFleet(jenv, options.aliases ?? []);
    await writeLabSettings(jenv);
    const root = join(jenv.dir, 'notebooks');
    await mkdir(root);
    const started = Date.now();
    const server = await startJupyterLab(jenv, root);
    lab = server;
    console.log(`[jupyterlab] jupyter lab listening after ${Date.now() - started} ms`);
    // The browser gets the env too, so the leftover check finds it as well.
    const chrome = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], env: jenv.env, timeout: WAIT_MS });
    browser = chrome;
    return {
      jenv,
      lab: server,
      browser: chrome,
      root,
      writeNotebook: (name, json) => writeFile(join(root, name), json),
      openNotebook: async (name) => {
        const page = await chrome.newPage({ viewport: { width: 1280, height: 1000 } });
        await page.goto(`${server.labUrl(name)}&reset`, { timeout: WAIT_MS });
        return page;
      },
      shutDownKernels: () => shutDownKernels(server),
      withFailureShot: (page, artifacts, name, fn) => withFailureShot(page, server, artifacts, name, fn),
      close: () => closeLabSession(jenv, server, chrome),
    };
  } catch (error) {
    await closeLabSession(jenv, lab, browser).catch((e: unknown) => console.error(`[jupyterlab] cleanup after a failed start: ${String(e)}`));
    throw error;
  }
}

async function withFailureShot<T>(page: Page, lab: JupyterLab, artifacts: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const file = join(artifacts, `FAILED-${name}.png`);
    const shot = await page.screenshot({ path: file, fullPage: true }).then(
      () => `screenshot: ${file}`,
      (e: unknown) => `no screenshot (${String(e)})`,
    );
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${shot}\njupyter lab output (tail):\n${tail(lab.output())}`, { cause: error });
  }
}

/** Shuts down every kernel through the server's REST API (each DELETE returns once its kernel is gone). */
async function shutDownKernels(lab: JupyterLab): Promise<void> {
  const sessions = await lab.api<{ id: string }[]>('/api/sessions');
  for (const session of sessions) await lab.api(`/api/sessions/${session.id}`, 'DELETE');
  const kernels = await lab.api<{ id: string }[]>('/api/kernels');
  for (const kernel of kernels) await lab.api(`/api/kernels/${kernel.id}`, 'DELETE');
}

/** Closes in order (browser, kernels, server, manager), then requires that nothing is left. */
async function closeLabSession(jenv: JupyterEnv, lab: JupyterLab | undefined, browser: Browser | undefined): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (step: () => Promise<unknown>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  };
  if (browser) await attempt(() => browser.close());
  if (lab) {
    await attempt(() => shutDownKernels(lab));
    await attempt(() => lab.stop());
  }
  await attempt(() => stopFleetManager(jenv.homeDir));
  // Router, manager, adapter, the double, tslab, ipykernel, the server and Chromium all carry the env's dir.
  await attempt(() => waitForNoProcesses(jenv.dir, 60_000));
  await attempt(() => jenv.cleanup(30_000));
  if (errors.length > 0) throw errors[0];
}
