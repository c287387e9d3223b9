import { readFileSync } from 'node:fs';
import * as zmq from 'zeromq';
import { createMessage, decode, encode, type WireMessage } from '../src/wire/codec.js';
import { endpoint, parseConnectionInfo } from '../src/wire/connection-file.js';
import { createSigner } from '../src/wire/sign.js';

/**
 * A minimal, fast kernel for measuring the router's own ceiling: it answers kernel_info and
 * execute at once and, for `flood N BYTES`, publishes N stream messages as fast as zeromq takes
 * them. No real kernel is this cheap, so what it measures is the router.
 */
const file = process.argv[2];
if (!file) throw new Error('usage: fast-peer CONNECTION_FILE');
const info = parseConnectionInfo(readFileSync(file, 'utf8'), file);
const signer = createSigner(info.key, info.signature_scheme);
const session = 'fast-peer';
const shell = new zmq.Router({ sendHighWaterMark: 0, receiveHighWaterMark: 0 });
const control = new zmq.Router();
const iopub = new zmq.Publisher({ sendHighWaterMark: 0 });
const hb = new zmq.Reply();
await Promise.all([shell.bind(endpoint(info, 'shell')), control.bind(endpoint(info, 'control')), iopub.bind(endpoint(info, 'iopub')), hb.bind(endpoint(info, 'hb'))]);

const status = (parent: WireMessage, state: string) =>
  iopub.send(encode(createMessage({ msgType: 'status', content: { execution_state: state }, session, parentHeader: parent.header, identities: [Buffer.from('status')] }), signer));

async function handle(socket: zmq.Router, frames: Buffer[]): Promise<void> {
  const r = decode(frames, { signer });
  if (!r.ok) return;
  const req = r.msg;
  await status(req, 'busy');
  let content: object = { status: 'ok' };
  if (req.msgType === 'kernel_info_request') {
    content = { status: 'ok', protocol_version: '5.4', implementation: 'fast-peer', implementation_version: '1', language_info: { name: 'text' }, banner: '' };
  } else if (req.msgType === 'execute_request') {
    const m = /^flood (\d+) (\d+)$/.exec(req.content<{ code: string }>().code);
    if (m) {
      const n = Number(m[1]);
      const text = 'x'.repeat(Number(m[2]) - 1) + '\n';
      for (let i = 0; i < n; i++) {
        await iopub.send(encode(createMessage({ msgType: 'stream', content: { name: 'stdout', text: `${i} ${text}` }, session, parentHeader: req.header, identities: [Buffer.from('stream')] }), signer));
      }
    }
    content = { status: 'ok', execution_count: 1, user_expressions: {} };
  } else if (req.msgType === 'shutdown_request') {
    content = { status: 'ok', restart: false };
  }
  const replyType = req.msgType.replace(/_request$/, '_reply');
  await socket.send(encode(createMessage({ msgType: replyType, content, session, parentHeader: req.header, identities: req.identities }), signer));
  await status(req, 'idle');
  if (req.msgType === 'shutdown_request') process.exit(0);
}

void (async () => { for await (const f of hb) await hb.send(f); })();
void (async () => { for await (const f of control) await handle(control, f); })();
for await (const f of shell) await handle(shell, f);
