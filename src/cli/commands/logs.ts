import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { readRegistry } from '../../fleet/manager/registry.js';
import { readTail } from '../../fleet/log-tail.js';
import { logDir } from '../../fleet/paths.js';
import { describeError } from '../../shared/errors.js';
import { isSafeName } from '../../shared/names.js';
import type { KubeRef } from '../../fleet/types.js';
import { parseLineCount, parseStopTarget, type StopTarget } from '../fleet-args.js';
import { findTarget, recordsIn } from '../fleet-views.js';
import { CliError, action, fleetContext, withHomeOption, withManager, type FleetContext } from './fleet-shared.js';

interface LogsFlags {
  home?: string;
  follow?: boolean;
  lines: number;
}

const POLL_MS = 200;

/**
 * The log file of a backend: the manager's record first (by id or port; a manager that is not
 * running is not started for this), then the registry the manager left on disk, then
 * <home>/logs/<ID>.log, so logs of a backend that is gone, or of a fleet whose manager is
 * down, can still be read.
 */
interface LogSource {
  logFile: string;
  /** A pod backend: its output is the pod's log, read through the Kubernetes API. */
  kube?: KubeRef;
}

async function locateLog(target: StopTarget, ctx: FleetContext): Promise<LogSource> {
  let managerNote = '';
  try {
    const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'list' }), { autostart: false });
    const record = findTarget(recordsIn(result), target);
    if (record) return sourceOf(record);
  } catch (error) {
    managerNote = ` (the fleet manager could not be asked: ${describeError(error)})`;
  }
  const onDisk = findTarget((await readRegistry(ctx.home)).records, target);
  if (onDisk) return sourceOf(onDisk);
  if (target.kind === 'id' && isSafeName(target.id)) {
    const file = join(logDir(ctx.home), `${target.id}.log`);
    if (existsSync(file)) return { logFile: file };
    throw new CliError(`no backend "${target.id}" in the fleet and no log file ${file}${managerNote}; see \`llmspell-fleet list\``);
  }
  const what = target.kind === 'port' ? `using port ${target.port}` : `"${target.id}"`;
  throw new CliError(`no backend ${what} in the fleet${managerNote}; see \`llmspell-fleet list\``);
}

function sourceOf(record: { logFile: string; kube?: KubeRef }): LogSource {
  return { logFile: record.logFile, ...(record.kube !== undefined ? { kube: record.kube } : {}) };
}

/** A pod backend's log: the last lines, then (follow) what it writes until the pod ends or Ctrl-C. */
async function podLogs(kube: KubeRef, lines: number, follow: boolean): Promise<void> {
  if (!follow) {
    const { podLog } = await import('../../fleet/launchers/kube/lifecycle.js');
    process.stdout.write(await podLog(kube, lines));
    return;
  }
  const { followPodLog } = await import('../../fleet/launchers/kube/pod-log-follow.js');
  await untilSignal((signal) => followPodLog(kube, lines, signal, (chunk) => process.stdout.write(chunk)));
}

/** Runs `work` with a signal that Ctrl-C (or SIGTERM) aborts. */
async function untilSignal(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await work(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Print what is appended to `file` from `offset` on until `signal` aborts; a truncated file is read from its start. */
export async function follow(file: string, offset: number, signal: AbortSignal, write: (chunk: Buffer) => void): Promise<void> {
  let pos = offset;
  while (!signal.aborted) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      size = pos; // rotated away or not there yet: keep waiting
    }
    if (size < pos) pos = 0;
    if (size > pos) {
      const handle = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - pos);
        const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
        pos += bytesRead;
        write(buf.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    }
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}

export function registerLogs(program: Command): void {
  withHomeOption(program.command('logs'))
    .description("print a backend's log (its stderr and stdout); works for stopped backends too while the log file is there")
    .argument('<id|port>', 'backend id or one of its ports (see `llmspell-fleet list`)', parseStopTarget)
    .option('-f, --follow', 'keep printing what the backend writes, until Ctrl-C (a pod backend: until its pod ends)')
    .option('-n, --lines <n>', 'how many lines from the end to print first', parseLineCount, 50)
    .action(
      action(async (target: StopTarget, flags: LogsFlags) => {
        const ctx = fleetContext(flags);
        const source = await locateLog(target, ctx);
        if (source.kube !== undefined) {
          try {
            await podLogs(source.kube, flags.lines, flags.follow === true);
          } catch (error) {
            throw new CliError(`cannot read the log of pod ${source.kube.namespace}/${source.kube.pod}: ${describeError(error)}`);
          }
          return;
        }
        const file = source.logFile;
        let tail: { text: string; size: number };
        try {
          tail = await readTail(file, flags.lines);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' || !flags.follow) throw new CliError(`cannot read log file ${file}: ${describeError(error)}`);
          tail = { text: '', size: 0 }; // --follow waits for a backend that has not written yet
        }
        process.stdout.write(tail.text);
        if (!flags.follow) return;
        await untilSignal((signal) => follow(file, tail.size, signal, (chunk) => process.stdout.write(chunk)));
      }),
    );
}
