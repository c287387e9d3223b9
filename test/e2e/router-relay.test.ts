/**
 * The router as a relay, measured against a fixture kernel that stresses one property at a time
 * (test/fixtures/flood-kernel.mjs): volume and order on iopub, big binary buffers, requests
 * queued while the backend starts, control beside a busy shell, identity routing between two
 * clients, and the heartbeat. The router is started the way Jupyter starts a kernel: we write
 * its connection file and run `llmspell-fleet router --connection-file F`.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withJupyterEnv } from '../helpers/e2e.js';
import {
  backendConnection, expectBytesRelayed, expectFloodComplete, expectNothingLeft, flood, routerLog, shutdown, startDirect, startRouter,
  TestClient, withRoutedClient, within, type Received,
} from '../helpers/relay.js';
import { pingHeartbeat } from '../../src/wire/heartbeat-client.js';

const TEST_TIMEOUT_MS = 180_000;

function log(message: string): void {
  console.log(`[router-relay] ${message}`);
}

const N_FLOOD = 200_000;
const FLOOD_SIZE = 100;

describe('router relay (flood-kernel fixture)', () => {
  it(`relays ${N_FLOOD} iopub stream messages complete and in order, then idle and execute_reply (direct rate vs routed rate)`, async () => {
    await withJupyterEnv(async (jenv) => {
      const rates: Record<string, number> = {};
      for (const mode of ['direct', 'routed'] as const) {
        const proc = mode === 'direct' ? await startDirect(jenv) : await startRouter(jenv);
        const client = new TestClient(proc.info);
        let passed = false;
        try {
          await client.waitReady();
          const r = await flood(client, N_FLOOD, FLOOD_SIZE);
          const why = `${mode}: ${JSON.stringify({ ...r, reply: undefined })}\n${mode === 'routed' ? routerLog(jenv, proc) : proc.stderr()}`;
          expectFloodComplete(r, N_FLOOD, client, why);
          rates[mode] = r.rate;
          log(`${mode}: ${N_FLOOD} x ${FLOOD_SIZE} B in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} msg/s; ` +
            `execute_reply arrived after ${r.streamsAtReply} of the stream messages`);
          passed = true;
        } finally {
          await shutdown(client, proc, mode === 'direct' ? 'flood-kernel' : 'router', !passed);
        }
      }
      log(`routed/direct rate: ${(rates.routed! / rates.direct!).toFixed(2)}`);
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it('relays a 20 MB display_data binary buffer intact', async () => {
    await withRoutedClient({}, async ({ client }) => {
      await expectBytesRelayed(client, 20 * 1024 * 1024, 60_000);
    });
  }, TEST_TIMEOUT_MS);

  it.each(['fleet', 'local'] as const)('holds shell and control requests sent while the backend is still starting, and says `starting` on iopub (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      const delayMs = 1500;
      const spawnedAt = Date.now();
      const router = await startRouter(jenv, { mode, env: { FLOOD_KERNEL_START_DELAY_MS: String(delayMs) } });
      // Connected and sending at once, as Jupyter does right after launching the kernel.
      const client = new TestClient(router.info);
      let passed = false;
      try {
        const welcome = client.nextIopub((m) => m.msgType === 'iopub_welcome');
        const starting = client.nextIopub((m) => m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'starting');
        const shellInfo = client.request('shell', 'kernel_info_request', {});
        const controlInfo = client.request('control', 'kernel_info_request', {});
        const [w, s] = await within(Promise.all([welcome, starting]), 10_000, 'iopub_welcome and status starting');
        const [shellReply, controlReply] = await within(Promise.all([shellInfo.reply, controlInfo.reply]), 30_000, 'kernel_info_reply on shell and control');
        const why = routerLog(jenv, router);
        for (const [channel, reply] of [['shell', shellReply], ['control', controlReply]] as const) {
          const content = reply.msg.content<{ implementation: string; flood_kernel?: { bound_at: number } }>();
          // Answered by the backend itself, not by the router standing in for it.
          expect(content.implementation, `${channel}: ${why}`).toBe('flood-kernel');
          const boundAt = content.flood_kernel!.bound_at;
          expect(boundAt - spawnedAt, `${channel}: the backend bound ${boundAt - spawnedAt} ms after the router was spawned`).toBeGreaterThanOrEqual(delayMs);
          expect(reply.at, `${channel}: reply received before the backend bound its sockets?`).toBeGreaterThanOrEqual(boundAt);
          // `starting` was said while the request was still waiting.
          expect(s.seq, `${channel}: status starting arrived after the reply`).toBeLessThan(reply.seq);
          expect(reply.channel).toBe(channel);
        }
        expect(w.seq).toBeLessThan(shellReply.seq);
        log(`slow start (${mode}): backend bound after ${shellReply.msg.content<{ flood_kernel: { bound_at: number } }>().flood_kernel.bound_at - spawnedAt} ms; ` +
          `replies after ${shellReply.at - spawnedAt} ms (shell), ${controlReply.at - spawnedAt} ms (control)`);
        passed = true;
      } finally {
        await shutdown(client, router, 'router', !passed);
      }
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it('answers control while shell runs a long flood (control is never stuck behind shell or iopub)', async () => {
    await withRoutedClient({}, async ({ jenv, client }) => {
      // The flood goes on until the test has its control reply (and creates this file), so the
      // order below is what the router does, not how fast the machine is.
      const release = join(jenv.dir, 'release-flood');
      let streams = 0;
      let msgId = '';
      const off = client.onIopub(({ msg }) => {
        if (msg.msgType === 'stream' && msg.parentHeader.msg_id === msgId) streams++;
      });
      const firstOutput = client.nextIopub((m) => m.msgType === 'stream' && m.parentHeader.msg_id === msgId);
      const exec = client.execute(`flood-until ${release} ${FLOOD_SIZE}`);
      msgId = exec.msgId;
      const execIdle = client.idle(exec.msgId);
      await within(firstOutput, 30_000, 'the first stream message of the flood');
      const info = client.request('control', 'kernel_info_request', {});
      const controlReply = await within(info.reply, 30_000, 'kernel_info_reply on control during the flood');
      const streamsAtControlReply = streams;
      await writeFile(release, '');
      const [execReply] = await within(Promise.all([exec.reply, execIdle]), 120_000, 'the flood to finish');
      off();
      const n = execReply.msg.content<{ flood_published: number }>().flood_published;
      log(`control reply after ${streamsAtControlReply} of ${n} stream messages; execute_reply after ${streams}`);
      expect(controlReply.msg.content<{ implementation: string }>().implementation).toBe('flood-kernel');
      expect(controlReply.seq, 'control kernel_info_reply arrived after the flood execute_reply').toBeLessThan(execReply.seq);
      expect(streamsAtControlReply, 'control reply waited for the whole iopub flood').toBeLessThan(n);
      expect(streams).toBe(n);
    });
  }, TEST_TIMEOUT_MS);

  it('routes replies by identity between two clients, while both see all iopub', async () => {
    await withRoutedClient({}, async ({ router, client: a }) => {
      const b = new TestClient(router.info, `client-B-${randomUUID()}`);
      try {
        await b.waitReady();
        const seen = { a: new Set<string>(), b: new Set<string>() };
        a.onIopub(({ msg }) => { if (msg.msgType === 'stream') seen.a.add(msg.content<{ text: string }>().text); });
        b.onIopub(({ msg }) => { if (msg.msgType === 'stream') seen.b.add(msg.content<{ text: string }>().text); });
        const rounds = 20;
        const pending: { who: 'a' | 'b'; channel: string; msgId: string; reply: Promise<Received> }[] = [];
        const idles: Promise<Received>[] = [];
        // Interleaved, not awaited one by one: the router has both clients' requests in flight at once.
        for (let i = 0; i < rounds; i++) {
          for (const [who, client] of [['a', a], ['b', b]] as const) {
            const ex = client.execute(`echo ${who} ${i}`);
            idles.push(a.idle(ex.msgId), b.idle(ex.msgId));
            pending.push({ who, channel: 'shell', ...ex });
            pending.push({ who, channel: 'control', ...client.request('control', 'kernel_info_request', {}) });
            pending.push({ who, channel: 'shell', ...client.request('shell', 'kernel_info_request', {}) });
          }
        }
        const replies = await within(Promise.all(pending.map((p) => p.reply)), 30_000, 'every reply');
        await within(Promise.all(idles), 30_000, 'both clients to see idle for every execute');
        replies.forEach((r, i) => {
          const p = pending[i]!;
          expect(r.msg.parentHeader.msg_id).toBe(p.msgId);
          expect(r.channel).toBe(p.channel);
        });
        expect(a.foreign.map((r) => r.msg.msgType), "replies to B's requests that reached A").toEqual([]);
        expect(b.foreign.map((r) => r.msg.msgType), "replies to A's requests that reached B").toEqual([]);
        for (let i = 0; i < rounds; i++) {
          for (const who of ['a', 'b']) {
            expect(seen.a.has(`echo ${who} ${i}`), `client A saw the output of echo ${who} ${i}`).toBe(true);
            expect(seen.b.has(`echo ${who} ${i}`), `client B saw the output of echo ${who} ${i}`).toBe(true);
          }
        }
      } finally {
        b.close();
      }
    });
  }, TEST_TIMEOUT_MS);

  it('echoes heartbeats itself while the backend is too busy to answer its own', async () => {
    await withRoutedClient({}, async ({ jenv, router, client }) => {
      const backend = await backendConnection(jenv);
      // The direct path works when the backend is idle, so silence later means "busy", not "wrong port".
      // A round trip means an echo of exactly the bytes sent (HeartbeatClient checks them).
      expect(await pingHeartbeat(backend, 5000)).toBeGreaterThanOrEqual(0);

      // The backend blocks until the test creates this file, so the pings below cannot outlast it.
      const release = join(jenv.dir, 'release-block');
      let msgId = '';
      const busy = client.nextIopub((m) => m.msgType === 'status' && m.parentHeader.msg_id === msgId && m.content<{ execution_state: string }>().execution_state === 'busy');
      const exec = client.execute(`block-until ${release}`);
      msgId = exec.msgId;
      let replied = false;
      void exec.reply.then(() => (replied = true));
      await within(busy, 30_000, 'busy status of the blocking execute');

      // The backend's own heartbeat and the router's, side by side while the backend is blocked.
      // The router's echoes get a generous bound (a busy machine is slow, not silent); the
      // backend's silence is what a blocked backend shows however long one waits.
      const routerPings = (async () => {
        const echoes: string[] = [];
        for (let i = 0; i < 5; i++) {
          echoes.push((await pingHeartbeat(router.info, 10_000)) === undefined ? 'no echo' : 'ok');
        }
        return echoes;
      })();
      const [echoes, backendEcho] = await Promise.all([routerPings, pingHeartbeat(backend, 1500)]);
      expect(echoes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(backendEcho, 'the backend answered its heartbeat while blocked').toBeUndefined();
      expect(replied, 'the blocking execute was answered before the block was released').toBe(false);
      await writeFile(release, '');
      const reply = await within(exec.reply, 30_000, 'execute_reply of the block');
      expect(reply.msg.content<{ status: string }>().status).toBe('ok');
    });
  }, TEST_TIMEOUT_MS);

  it('tells every client when an idle backend stops answering its heartbeat (SIGSTOP), not before heartbeat_timeout_seconds, and when it answers again (SIGCONT)', async () => {
    await withRoutedClient({}, async ({ router, client: a, kernelInfo }) => {
      const b = new TestClient(router.info);
      let stoppedPid: number | undefined;
      try {
        await b.waitReady();
        const pid = kernelInfo!.content<{ flood_kernel: { pid: number } }>().flood_kernel.pid;
        const notice = (c: TestClient, pattern: RegExp) =>
          c.nextIopub((m) => m.msgType === 'stream' && pattern.test(m.content<{ text: string }>().text));
        const silent = /backend \(pid \d+\) has not answered its heartbeat for [\d.]+ s/;
        const lost = Promise.all([notice(a, silent), notice(b, silent)]);
        const stoppedAt = Date.now();
        process.kill(pid, 'SIGSTOP');
        stoppedPid = pid;
        const [na] = await within(lost, 30_000, 'the heartbeat notice on both clients');
        const noticedMs = na.at - stoppedAt;
        log(`backend SIGSTOPped: both clients told after ${noticedMs} ms`);
        const text = na.msg.content<{ name: string; text: string }>();
        expect(text).toMatchObject({ name: 'stderr', text: expect.stringContaining(`pid ${pid}`) });
        // How soon it is noticed depends on the machine (the figure is logged); that the silence
        // it reports is at least heartbeat_timeout_seconds (2.5 s) does not.
        expect(Number(/for ([\d.]+) s/.exec(text.text)?.[1]), text.text).toBeGreaterThanOrEqual(2.5);
        // The router answers `%llmspell status` itself, so it works while the backend is stopped.
        let statusId = '';
        const statusText = a.nextIopub((m) => m.msgType === 'stream' && m.parentHeader.msg_id === statusId);
        statusId = a.execute('%llmspell status').msgId;
        const shownStatus = await within(statusText, 30_000, '%llmspell status output');
        expect(shownStatus.msg.content<{ text: string }>().text).toMatch(new RegExp(`pid ${pid}, heartbeat silent for [\\d.]+ s`));

        const back = Promise.all([notice(a, /answers its heartbeat again/), notice(b, /answers its heartbeat again/)]);
        process.kill(pid, 'SIGCONT');
        stoppedPid = undefined;
        await within(back, 30_000, 'the heartbeat-back notice on both clients');
        const ex = a.execute('echo still here');
        const [reply] = await within(Promise.all([ex.reply, a.idle(ex.msgId)]), 30_000, 'an execute after SIGCONT');
        expect(reply.msg.content<{ status: string }>().status).toBe('ok');
      } finally {
        if (stoppedPid !== undefined) process.kill(stoppedPid, 'SIGCONT');
        b.close();
      }
    });
  }, TEST_TIMEOUT_MS);
});
