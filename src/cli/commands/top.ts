/**
 * `llmspell-fleet top`: the fleet as `list` shows it, redrawn every second on the terminal's
 * alternate screen until q or Ctrl-C, which put the screen and the cursor back. With stdout not
 * a terminal (or --once) it prints one frame and exits, so scripts and tests can read it.
 * The frame itself is top-frame.ts; here is only the terminal and the manager connection.
 */
import type { Command } from 'commander';
import { ManagerClient } from '../../fleet/manager/client.js';
import { describeError } from '../../shared/errors.js';
import { recordsIn, type PublicRecord } from '../fleet-views.js';
import { renderTopFrame } from '../top-frame.js';
import { CliError, action, fleetContext, withHomeOption, withManager, type FleetContext } from './fleet-shared.js';
import { listBackends } from './list.js';

/** Alternate screen on, cursor hidden; and the reverse, which must be written however top ends. */
export const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
export const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';
const CTRL_C = '\x03';

interface TopFlags {
  home?: string;
  once?: boolean;
  delay: string;
}

function clock(now = new Date()): string {
  return now.toTimeString().slice(0, 8);
}

async function fetchFleet(client: ManagerClient): Promise<PublicRecord[]> {
  return listBackends(recordsIn(await client.request<unknown>({ op: 'list' })));
}

/** Pure: the seconds between refreshes from --delay. */
export function parseDelay(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.2) throw new CliError(`--delay ${value}: give the seconds between refreshes, 0.2 or more`);
  return seconds * 1000;
}

async function printOnce(ctx: FleetContext): Promise<void> {
  const records = await withManager(ctx, fetchFleet);
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  process.stdout.write(renderTopFrame(records, { columns, clock: clock() }).join('\n') + '\n');
}

/** The live view; resolves when the user quits, with the terminal as it was. */
async function runLive(ctx: FleetContext, delayMs: number): Promise<void> {
  const out = process.stdout;
  const stdin = process.stdin;
  // Fail before touching the screen when no manager can be reached.
  let client: ManagerClient | undefined = await ManagerClient.connect({ home: ctx.home, env: ctx.env });
  let records: PublicRecord[] = [];
  let status: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let done = false;

  const draw = () => {
    const lines = renderTopFrame(records, { columns: out.columns, rows: out.rows, clock: clock(), status });
    out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
  };
  const tick = async () => {
    try {
      client ??= await ManagerClient.connect({ home: ctx.home, env: ctx.env, autostart: false });
      records = await fetchFleet(client);
      status = undefined;
    } catch (error) {
      client?.close();
      client = undefined;
      // What matters first: a narrow terminal cuts the end of the line.
      status = `lost the fleet manager, retrying (last list shown): ${describeError(error)}`;
    }
    if (done) {
      // Quit while this read was under way: the connection it may have opened is not needed.
      client?.close();
      return;
    }
    draw();
    timer = setTimeout(() => void tick(), delayMs);
  };

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    out.write(LEAVE_SCREEN);
  };
  // A crash between here and the end must not leave the user's terminal on the alternate screen.
  process.once('exit', restore);
  let quit = () => {};
  const onKey = (data: Buffer) => {
    const key = data.toString('utf8');
    if (key === 'q' || key === 'Q' || key.includes(CTRL_C)) quit();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  out.write(ENTER_SCREEN);
  try {
    await new Promise<void>((resolve) => {
      quit = () => {
        done = true;
        resolve();
      };
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.on('data', onKey);
      // Raw mode turns Ctrl-C into a key; these still come from kill or a stdin that is no terminal.
      for (const signal of signals) process.once(signal, quit);
      out.on('resize', draw);
      void tick();
    });
  } finally {
    clearTimeout(timer);
    out.off('resize', draw);
    for (const signal of signals) process.off(signal, quit);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.off('data', onKey);
    stdin.pause();
    client?.close();
    restore();
    process.off('exit', restore);
  }
}

export function registerTop(program: Command): void {
  withHomeOption(program.command('top'))
    .description('a live view of the fleet (as list shows it, busiest first, with fleet totals), refreshed every second; q or Ctrl-C quits. With stdout not a terminal it prints one frame')
    .option('--once', 'print one frame and exit')
    .option('-d, --delay <seconds>', 'seconds between refreshes', '1')
    .action(
      action(async (flags: TopFlags) => {
        const ctx = fleetContext(flags);
        const delayMs = parseDelay(flags.delay);
        if (flags.once === true || !process.stdout.isTTY) await printOnce(ctx);
        else await runLive(ctx, delayMs);
      }),
    );
}
