import { fork } from 'node:child_process';
import * as zmq from 'zeromq';
import { percentile } from './stats.js';

/**
 * The floor for any Node.js hop: a zeromq.js ROUTER->DEALER relay that does nothing (no
 * signature checks, no parsing), between an echo peer and a client, each in its own process.
 * Whatever the router costs beyond this is its own work. The message has a Jupyter message's
 * shape (six frames, about 600 bytes): zeromq.js hands frames over 128 bytes to JS without
 * copying and frees them on the main thread, so a 1-byte echo would understate the floor.
 */
const header = (type: string) => JSON.stringify({ msg_id: 'm'.repeat(36), msg_type: type, session: 's'.repeat(36), username: 'bench', date: new Date(0).toISOString(), version: '5.4' });
const JUPYTER_SHAPED = ['<IDS|MSG>', 'a'.repeat(64), header('kernel_info_request'), header('kernel_info_reply'), '{}', '{}'].map((s) => Buffer.from(s));
const role = process.argv[2];
// BENCH_CURVE_PUBLIC/SECRET: the echo peer is a curve server and the relay's back hop a curve
// client, as with runtimes.X.curve = true (what the hop between router and backend costs).
const curveServer = process.env.BENCH_CURVE_SECRET ? { curveServer: true, curvePublicKey: process.env.BENCH_CURVE_PUBLIC as string, curveSecretKey: process.env.BENCH_CURVE_SECRET } : {};
const curveClient = () => {
  if (!process.env.BENCH_CURVE_PUBLIC) return {};
  const own = zmq.curveKeyPair();
  return { curveServerKey: process.env.BENCH_CURVE_PUBLIC, curvePublicKey: own.publicKey, curveSecretKey: own.secretKey };
};
if (role === 'echo' || role === 'relay') {
  const [peer, front] = [Number(process.argv[3]), Number(process.argv[4])];
  if (role === 'echo') {
    const s = new zmq.Router({ linger: 0, ...curveServer });
    await s.bind(`tcp://127.0.0.1:${peer}`);
    process.send?.('ready');
    for await (const f of s) await s.send(f);
  } else {
    const front_ = new zmq.Router({ linger: 0 });
    await front_.bind(`tcp://127.0.0.1:${front}`);
    const back = new zmq.Dealer({ linger: 0, ...curveClient() });
    back.connect(`tcp://127.0.0.1:${peer}`);
    process.send?.('ready');
    void (async () => { for await (const f of back) await front_.send(f); })();
    for await (const f of front_) await back.send(f);
  }
}

export async function bareRelayRoundTrips(n: number, ports: [number, number], options: { curve?: boolean } = {}): Promise<{ direct: number[]; relayed: number[] }> {
  const self = new URL(import.meta.url).pathname;
  const pair = options.curve ? zmq.curveKeyPair() : undefined;
  const env = pair ? { ...process.env, BENCH_CURVE_PUBLIC: pair.publicKey, BENCH_CURVE_SECRET: pair.secretKey } : process.env;
  const start = (r: string) =>
    new Promise<ReturnType<typeof fork>>((resolve) => {
      const child = fork(self, [r, String(ports[0]), String(ports[1])], { env });
      child.once('message', () => resolve(child));
    });
  const echo = await start('echo');
  const relay = await start('relay');
  const measure = async (port: number) => {
    // The client talks to the echo peer directly only in the `direct` column: curve there too.
    const d = new zmq.Dealer({ linger: 0, ...(pair && port === ports[0] ? { curveServerKey: pair.publicKey, ...keys(zmq.curveKeyPair()) } : {}) });
    d.connect(`tcp://127.0.0.1:${port}`);
    const times: number[] = [];
    for (let i = 0; i < n + 50; i++) {
      const t = process.hrtime.bigint();
      await d.send(JUPYTER_SHAPED);
      await d.receive();
      if (i >= 50) times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    d.close();
    return times.sort((a, b) => a - b);
  };
  try {
    return { direct: await measure(ports[0]), relayed: await measure(ports[1]) };
  } finally {
    echo.kill();
    relay.kill();
  }
}

function keys(pair: { publicKey: string; secretKey: string }): { curvePublicKey: string; curveSecretKey: string } {
  return { curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey };
}

export { percentile };
