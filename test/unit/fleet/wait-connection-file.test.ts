import { appendFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeConnectionFile, waitForConnectionFile } from '../../../src/fleet/wait-connection-file.js';

const valid = {
  transport: 'tcp',
  ip: '127.0.0.1',
  shell_port: 40001,
  iopub_port: 40002,
  stdin_port: 40003,
  control_port: 40004,
  hb_port: 40005,
  key: 'abc',
  signature_scheme: 'hmac-sha256',
  kernel_name: 'llmspell',
};
const validText = JSON.stringify(valid, null, 2);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-wait-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Settles to 'pending' if `p` has not settled after `ms`: for asserting that nothing happened yet. */
function stateAfter(p: Promise<unknown>, ms: number): Promise<'pending' | 'settled'> {
  return Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), delay(ms).then(() => 'pending' as const)]);
}

describe('probeConnectionFile', () => {
  it.each([
    { name: 'missing', content: undefined, expected: { ok: false, problem: 'missing' } },
    { name: 'empty', content: '', expected: { ok: false, problem: 'invalid' } },
    { name: 'half written', content: validText.slice(0, 40), expected: { ok: false, problem: 'invalid' } },
    { name: 'zero port (not bound yet)', content: JSON.stringify({ ...valid, hb_port: 0 }), expected: { ok: false, problem: 'invalid' } },
    { name: 'complete', content: validText, expected: { ok: true } },
  ])('$name', async ({ content, expected }) => {
    const file = join(dir, 'kernel.json');
    if (content !== undefined) await writeFile(file, content);
    const probe = await probeConnectionFile(file);
    expect(probe).toMatchObject(expected);
    if (probe.ok) expect(probe.info.shell_port).toBe(40001);
    else expect(probe.detail.length).toBeGreaterThan(0);
  });

  it('reports a directory in the way as unreadable', async () => {
    const file = join(dir, 'kernel.json');
    await mkdir(file);
    expect(await probeConnectionFile(file)).toMatchObject({ ok: false, problem: 'unreadable' });
  });
});

describe('waitForConnectionFile', () => {
  it('resolves at once when the file is already complete', async () => {
    const file = join(dir, 'kernel.json');
    await writeFile(file, validText);
    const info = await waitForConnectionFile(file, { signal: new AbortController().signal });
    expect(info).toMatchObject({ shell_port: 40001, hb_port: 40005, key: 'abc', kernel_name: 'llmspell' });
  });

  it('waits through a non-atomic write and resolves when the file is complete', async () => {
    const file = join(dir, 'kernel.json');
    const waiting = waitForConnectionFile(file, { signal: new AbortController().signal, intervalMs: 10 });
    expect(await stateAfter(waiting, 50)).toBe('pending');
    await writeFile(file, validText.slice(0, 50));
    // Several poll periods and watch events with a half file: it must keep waiting.
    expect(await stateAfter(waiting, 80)).toBe('pending');
    await appendFile(file, validText.slice(50));
    expect(await waiting).toMatchObject({ control_port: 40004, signature_scheme: 'hmac-sha256' });
  });

  it('keeps waiting while ports are still zero', async () => {
    const file = join(dir, 'kernel.json');
    await writeFile(file, JSON.stringify({ ...valid, shell_port: 0 }));
    const waiting = waitForConnectionFile(file, { signal: new AbortController().signal, intervalMs: 10 });
    expect(await stateAfter(waiting, 60)).toBe('pending');
    await writeFile(file, validText);
    expect((await waiting).shell_port).toBe(40001);
  });

  it('finds a file whose directory did not exist when waiting started (poll fallback)', async () => {
    const sub = join(dir, 'later');
    const file = join(sub, 'kernel.json');
    const waiting = waitForConnectionFile(file, { signal: new AbortController().signal, intervalMs: 10 });
    await mkdir(sub);
    await writeFile(file, validText);
    expect((await waiting).iopub_port).toBe(40002);
  });

  it('rejects with the abort reason', async () => {
    const file = join(dir, 'kernel.json');
    const controller = new AbortController();
    const waiting = waitForConnectionFile(file, { signal: controller.signal, intervalMs: 10 });
    const reason = new Error('gave up');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('rejects at once on an already aborted signal, even if the file is there', async () => {
    const file = join(dir, 'kernel.json');
    await writeFile(file, validText);
    const reason = { kind: 'timeout' };
    await expect(waitForConnectionFile(file, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('rejects intervalMs %s with a TypeError', (intervalMs) => {
    expect(() => waitForConnectionFile(join(dir, 'x.json'), { signal: new AbortController().signal, intervalMs })).toThrow(TypeError);
  });
});
