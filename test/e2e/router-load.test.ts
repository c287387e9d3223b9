/**
 * The router under load and at its limits, against the flood-kernel fixture: a million iopub
 * messages to one client, a 100 MB message, and messages over router.max_message_mb. Each test
 * reads the router's peak RSS (VmHWM) from /proc, logs it, and holds it to a bound.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectBytesRelayed, expectFloodComplete, flood, routerLog, withRoutedClient, within } from '../helpers/relay.js';

const TEST_TIMEOUT_MS = 600_000;
const MB = 1024 * 1024;

function log(message: string): void {
  console.log(`[router-load] ${message}`);
}

/** Peak and current resident set size of a process, from /proc (bytes). */
function memory(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

const mb = (n: number) => `${(n / MB).toFixed(0)} MB`;

describe('router under load (flood-kernel fixture)', () => {
  it('relays 1,000,000 iopub messages to one client, none lost, in order, then idle', async () => {
    await withRoutedClient({}, async ({ jenv, router, client }) => {
      const before = memory(router.child.pid!);
      const n = 1_000_000;
      const r = await flood(client, n, 100, TEST_TIMEOUT_MS - 60_000);
      const after = memory(router.child.pid!);
      expectFloodComplete(r, n, client, `${JSON.stringify({ ...r, reply: undefined })}\n${routerLog(jenv, router)}`);
      log(`${n} x 100 B in ${r.seconds.toFixed(1)} s = ${r.rate.toFixed(0)} msg/s; router RSS ${mb(before.now)} before, peak ${mb(after.peak)}`);
      // The router holds a bounded backlog and pushes back on the backend beyond it (see
      // router/sockets.ts); without that it held the whole flood (1.5 GB peak when measured).
      expect(after.peak, `router peak RSS ${mb(after.peak)}`).toBeLessThan(512 * MB);
    });
  }, TEST_TIMEOUT_MS);

  it('relays a 100 MB message intact with the router peak RSS bounded', async () => {
    await withRoutedClient({}, async ({ router, client }) => {
      const before = memory(router.child.pid!);
      const size = 100 * MB;
      await expectBytesRelayed(client, size, 120_000);
      const after = memory(router.child.pid!);
      const growth = after.peak - before.now;
      log(`100 MB message: router RSS ${mb(before.now)} before, peak ${mb(after.peak)} (+${mb(growth)}, ${(growth / size).toFixed(2)}x the message)`);
      // Relayed without copies beyond the one receive and the one send.
      expect(growth, `router peak grew by ${mb(growth)}`).toBeLessThan(3 * size);
    });
  }, TEST_TIMEOUT_MS);

  it('answers a request over router.max_message_mb with an error, replaces oversized output with a notice, and keeps working', async () => {
    await withRoutedClient({ toml: ['[router]', 'max_message_mb = 1'] }, async ({ jenv, router, client }) => {
      // A request over the limit: an error reply and an iopub error, nothing reaches the backend.
      let bigId = '';
      const bigError = client.nextIopub((m) => m.msgType === 'error' && m.parentHeader.msg_id === bigId);
      const big = client.execute(`echo ${'x'.repeat(2 * MB)}`);
      bigId = big.msgId;
      const [bigReply, bigShown] = await within(Promise.all([big.reply, bigError]), 30_000, 'the error reply to the oversized request');
      const content = bigReply.msg.content<{ status: string; ename: string; evalue: string }>();
      expect(content).toMatchObject({ status: 'error', ename: 'FleetError' });
      expect(content.evalue).toMatch(/execute_request is 2\.0 MB, more than router\.max_message_mb \(1\.0 MB\)/);
      expect(bigShown.msg.content<{ evalue: string }>().evalue).toBe(content.evalue);
      let echoed = false;
      const off = client.onIopub(({ msg }) => {
        if (msg.msgType === 'stream' && msg.content<{ text: string }>().text.startsWith('echo x')) echoed = true;
      });

      // Output over the limit: a stderr notice in the same cell instead, and an ok reply.
      let outId = '';
      const notice = client.nextIopub((m) => m.msgType === 'stream' && m.parentHeader.msg_id === outId);
      let displays = 0;
      const offDisplay = client.onIopub(({ msg }) => { if (msg.msgType === 'display_data') displays++; });
      const out = client.execute(`bytes ${2 * MB}`);
      outId = out.msgId;
      const idle = client.idle(out.msgId);
      const [outReply, shown] = await within(Promise.all([out.reply, notice, idle]), 30_000, 'reply, notice and idle of the oversized output');
      expect(outReply.msg.content<{ status: string }>().status).toBe('ok');
      const text = shown.msg.content<{ name: string; text: string }>();
      expect(text.name).toBe('stderr');
      expect(text.text).toMatch(/display_data from the backend is 2\.0 MB, more than router\.max_message_mb \(1\.0 MB\) allows .* It was dropped/);
      expect(displays).toBe(0);
      offDisplay();

      // Still working, and the oversized request never reached the backend (it would have echoed first).
      const small = client.execute('echo after');
      const smallIdle = client.idle(small.msgId);
      const [smallReply] = await within(Promise.all([small.reply, smallIdle]), 30_000, 'the small execute after');
      expect(smallReply.msg.content<{ status: string }>().status).toBe('ok');
      off();
      expect(echoed, 'the backend ran the oversized request').toBe(false);
      const logText = readFileSync(`${jenv.homeDir}/logs/router-${router.child.pid}.log`, 'utf8');
      expect(logText).toMatch(/"reason":"TOO_LARGE".*"channel":"frontend\.shell"|"channel":"frontend\.shell".*"reason":"TOO_LARGE"/);
      expect(logText).toMatch(/"channel":"backend\.iopub".*"reason":"TOO_LARGE"|"reason":"TOO_LARGE".*"channel":"backend\.iopub"/);
    });
  }, TEST_TIMEOUT_MS);
});
