/**
 * The manager keeps a backend's output while no router is attached, with real stand-in
 * backends and a real Jupyter client that runs cells on them directly (the manager counts only
 * routers as attached). The stand-in's iopub is a plain PUB with no welcome, so a subscription's
 * start cannot be seen: the client runs cells until the first one is kept, an event awaited,
 * not a clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import type { RouterRef } from '../../../../src/fleet/manager/entry.js';
import type { BackendHandle } from '../../../../src/fleet/manager/protocol.js';
import { isFleetError } from '../../../../src/shared/errors.js';
import { JupyterClient } from '../../../../src/wire/client.js';
import { executeCell } from '../../../../src/wire/execute.js';
import { waitForReady } from '../../../../src/wire/ready.js';
import { makeTempFleet, type TempFleet } from './standin-fleet.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };

let fleet: TempFleet;
let managers: FleetManager[];
let clients: JupyterClient[];

beforeEach(async () => {
  fleet = await makeTempFleet({ linger: 300 });
  managers = [];
  clients = [];
});

afterEach(async () => {
  for (const c of clients) c.close();
  for (const m of managers) await m.stopAll().catch(() => undefined);
  for (const m of managers) await m.close();
  await fleet.done();
});

function manager(): FleetManager {
  const m = new FleetManager({ home: fleet.home, loadConfig: async () => fleet.config() });
  managers.push(m);
  return m;
}

const router = (routerId: string): RouterRef => ({ routerId, pid: process.pid });

/**
 * A client of the backend outside the fleet (like `jupyter console --existing`). A cell is run
 * once its idle is on this client's iopub: the backend has published all of it by then.
 */
async function direct(handle: BackendHandle): Promise<(code: string) => Promise<void>> {
  const client = new JupyterClient({ connection: handle.connection, channels: ['shell', 'iopub'] });
  clients.push(client);
  await waitForReady(client, { timeoutMs: 10_000, resendMs: 100 });
  return async (code) => void (await executeCell(client, code, { timeoutMs: 10_000 }));
}

/**
 * The last cell runUntilKept runs: its code (echoed on iopub) is padded so that its arrival in
 * the manager shows in the bytes held. Counting messages cannot tell: the manager reads iopub
 * behind the direct client, by an unknown number of cells.
 */
const PAD = ' '.repeat(4096);
const keptWhole = (tag: string): string => `${tag} (kept whole)${PAD}`;

/**
 * Runs cells (`${tag} 0`, `${tag} 1`, …) until the manager holds output of one (the subscription
 * is live), then one more, all of whose output is kept.
 */
async function runUntilKept(m: FleetManager, kernelId: string, run: (code: string) => Promise<void>, tag: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await run(`${tag} ${i}`);
    const held = m.list().find((b) => b.kernelId === kernelId)?.heldOutput;
    if (held !== undefined && held.messages > 0) {
      await run(keptWhole(tag));
      // Its execute_input (the padded code) held, then an idle after it: that idle is this cell's, its output is in.
      return await waitFor(() => {
        const now = m.list().find((b) => b.kernelId === kernelId)?.heldOutput;
        return now !== undefined && now.bytes >= held.bytes + PAD.length && now.finished;
      });
    }
  }
  throw new Error(`the manager kept nothing of 200 cells run on ${kernelId}`);
}

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Texts of the stream messages in what a router takes. */
function streams(m: FleetManager, kernelId: string, routerId: string): string[] {
  const output = m.takeOutput(kernelId, routerId);
  return (output?.entries ?? []).filter((e) => e.msgType === 'stream').map((e) => String(e.content.text));
}

describe('FleetManager keeps the output of a backend no router is attached to', () => {
  it('for a backend spawned for nobody: kept until a router attaches, handed out once, only to an attached router', async () => {
    const m = manager();
    const h = await m.find(OPENAI);
    const run = await direct(h);
    await runUntilKept(m, h.record.kernelId, run, 'detached');
    await m.acquire(OPENAI, router('r1'));
    // Attached: the manager is out of the data path; what it holds waits for a taker.
    await run('while attached');
    expect(m.list()[0]?.heldOutput).toMatchObject({ subscribed: false, finished: true });

    let refused: unknown;
    try {
      m.takeOutput(h.record.kernelId, 'not-attached');
    } catch (error) {
      refused = error;
    }
    expect(isFleetError(refused) && refused.code).toBe('UNKNOWN_BACKEND');

    const output = m.takeOutput(h.record.kernelId, 'r1');
    const kept = (output?.entries ?? []).map((e) => e.msgType);
    expect(new Set(kept)).toEqual(new Set(['execute_input', 'stream', 'execute_result', 'status']));
    const texts = (output?.entries ?? []).filter((e) => e.msgType === 'stream').map((e) => String(e.content.text));
    expect(texts.at(-1)).toBe(keptWhole('detached'));
    expect(texts.every((t) => t.startsWith('detached'))).toBe(true);
    expect(output?.entries.find((e) => e.msgType === 'status')?.content).toEqual({ execution_state: 'idle' });
    expect(m.takeOutput(h.record.kernelId, 'r1')).toBeUndefined();
    expect(m.list()[0]?.heldOutput).toBeUndefined();
  });

  it('again when the last router leaves (not while one is attached), with the cells the leaving router still had running', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1'));
    const run = await direct(h);
    await run('while attached');
    expect(m.list()[0]?.heldOutput).toBeUndefined();
    const cell = { msgId: 'req-1', code: 'long_running()', date: '2026-12-01T14:02:11.000Z' };
    m.release(h.record.kernelId, 'r1', [cell]);
    await runUntilKept(m, h.record.kernelId, run, 'after r1 left');
    await m.acquire(OPENAI, router('r2'));
    const output = m.takeOutput(h.record.kernelId, 'r2');
    expect(output?.cells).toEqual([cell]);
    const texts = (output?.entries ?? []).filter((e) => e.msgType === 'stream').map((e) => String(e.content.text));
    expect(texts.at(-1)).toBe(keptWhole('after r1 left'));
    expect(texts.every((t) => t.startsWith('after r1 left'))).toBe(true);
  });

  it('for a backend adopted with no router attached', async () => {
    const first = manager();
    const h = await first.find(OPENAI);
    await first.close();
    managers = managers.filter((x) => x !== first);
    const second = manager();
    expect((await second.start()).adopted).toEqual([h.record.kernelId]);
    await runUntilKept(second, h.record.kernelId, await direct(h), 'adopted');
    await second.acquire(OPENAI, router('r1'));
    const texts = streams(second, h.record.kernelId, 'r1');
    expect(texts.at(-1)).toBe(keptWhole('adopted'));
    expect(texts.every((t) => t.startsWith('adopted'))).toBe(true);
  });
});
