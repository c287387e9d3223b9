import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { sendable } from '../src/wire/frames.js';
import { curveClientOptions, curveServerOptions } from '../src/wire/curve.js';
import { percentile } from './stats.js';

/**
 * The floor for any Node.js hop: a zeromq.js ROUTER->DEALER relay that does nothing (no
 * signature checks, no parsing), between an echo peer and a client, each in its own process.
 * Whatever the router costs beyond this is its own work. The message has a Jupyter message's
 * shape (six frames, about 600 bytes): zeromq.js hands frames over 128 bytes to JS without
 * copying and frees them on the main thread, so a 1-byte echo would understate the floor.
 *
 * Variants (issue #12 item 4): `strings` relays the frames as the router sends them
 * (sendable(): copied, so their release does not wake the event loop); `ipc` puts the echo
 * peer (the backend) behind an ipc endpoint instead of tcp, as a local backend could be;
 * `curve` makes the echo peer a curve server and both its clients (the relay's back hop, and
 * the direct client) curve clients, as with runtimes.X.curve = true.
 */
export type RelayVariant = 'plain' | 'strings' | 'ipc' | 'strings+ipc' | 'curve';

const header = (type: string) => JSON.stringify({ msg_id: 'm'.repeat(36), msg_type: type, session: 's'.repeat(36), username: 'bench', date: new Date(0).toISOString(), version: '5.4' });
const JUPYTER_SHAPED = ['<IDS|MSG>', 'a'.repeat(64), header('kernel_info_request'), header('kernel_info_reply'), '{}', '{}'].map((s) => Buffer.from(s));
const role = process.argv[2];
// BENCH_CURVE_PUBLIC/SECRET: the echo peer's pair (variant `curve`).
const benchPair = { curve_publickey: process.env.BENCH_CURVE_PUBLIC || undefined, curve_secretkey: process.env.BENCH_CURVE_SECRET || undefined };
const curveServer = curveServerOptions(benchPair);
const curveClient = () => curveClientOptions(benchPair);
if (role === 'echo' || role === 'relay') {
  const [peer, front, variant] = [process.argv[3]!, process.argv[4]!, process.argv[5] as RelayVariant];
  const out = variant.startsWith('strings') ? sendable : (f: Buffer[]) => f;
  if (role === 'echo') {
    const s = new zmq.Router({ linger: 0, ...curveServer });
    await s.bind(peer);
    process.send?.('ready');
    for await (const f of s) await s.send(f);
  } else {
    const front_ = new zmq.Router({ linger: 0 });
    await front_.bind(front);
    const back = new zmq.Dealer({ linger: 0, ...curveClient() });
    back.connect(peer);
    process.send?.('ready');
    void (async () => { for await (const f of back) await front_.send(out(f)); })();
    for await (const f of front_) await back.send(out(f));
  }
}

export async function bareRelayRoundTrips(n: number, ports: [number, number], variant: RelayVariant = 'plain'): Promise<{ direct: number[]; relayed: number[] }> {
  const self = new URL(import.meta.url).pathname;
  const peer = variant.endsWith('ipc') ? `ipc://${join(tmpdir(), `llmspell-fleet-bench-${process.pid}-${ports[0]}`)}` : `tcp://127.0.0.1:${ports[0]}`;
  const front = `tcp://127.0.0.1:${ports[1]}`;
  const pair = variant === 'curve' ? zmq.curveKeyPair() : undefined;
  const env = pair ? { ...process.env, BENCH_CURVE_PUBLIC: pair.publicKey, BENCH_CURVE_SECRET: pair.secretKey } : process.env;
  const start = (r: string) =>
    new Promise<ReturnType<typeof fork>>((resolve) => {
      const child = fork(self, [r, peer, front, variant], { env });
      child.once('message', () => resolve(child));
    });
  const echo = await start('echo');
  const relay = await start('relay');
  // Direct and relayed by turns, in blocks of 25, so that both see the same load on a shared machine.
  const direct = new zmq.Dealer({ linger: 0, ...curveClientOptions(pair ? { curve_publickey: pair.publicKey } : {}) });
  const relayed = new zmq.Dealer({ linger: 0 });
  direct.connect(peer);
  relayed.connect(front);
  const times = { direct: [] as number[], relayed: [] as number[] };
  try {
    for (let i = 0; i < n + 50; i += 25) {
      for (const [name, d] of [['direct', direct], ['relayed', relayed]] as const) {
        for (let j = 0; j < 25; j++) {
          const t = process.hrtime.bigint();
          await d.send(JUPYTER_SHAPED);
          await d.receive();
          if (i >= 50) times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
    }
    return { direct: times.direct.sort((a, b) => a - b), relayed: times.relayed.sort((a, b) => a - b) };
  } finally {
    direct.close();
    relayed.close();
    echo.kill();
    relay.kill();
    if (variant.endsWith('ipc')) rmSync(peer.slice('ipc://'.length), { force: true });
  }
}

export { percentile };
