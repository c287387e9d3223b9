import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import {
  endpoint,
  newKey,
  parseConnectionInfo,
  portField,
  readConnectionFile,
  writeConnectionFile,
  type ConnectionInfo,
} from '../../../src/wire/connection-file.js';
import { CHANNELS, type Channel } from '../../../src/wire/messages.js';
import { loadVectors } from '../../helpers/wire.js';

const { connection_files: written } = loadVectors();

const valid = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  shell_port: 50001,
  iopub_port: 50002,
  stdin_port: 50003,
  control_port: 50004,
  hb_port: 50005,
  ip: '127.0.0.1',
  key: 'abc',
  transport: 'tcp',
  signature_scheme: 'hmac-sha256',
  ...over,
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseConnectionInfo: files jupyter_client wrote', () => {
  it.each(['tcp', 'ipc'] as const)('%s', (transport) => {
    const info = parseConnectionInfo(written[transport].text);
    expect(info).toMatchObject({
      transport,
      shell_port: 50001,
      iopub_port: 50002,
      stdin_port: 50003,
      control_port: 50004,
      hb_port: 50005,
      key: '6b1f6c1e-0d7b-4c8a-9a57-3f4e5d6c7b8a',
      signature_scheme: 'hmac-sha256',
      kernel_name: 'python3',
    });
    expect(info.ip).toBe(transport === 'tcp' ? '127.0.0.1' : '/tmp/llmspell-vectors/kernel');
  });

  it.each(['tcp', 'ipc'] as const)('%s: endpoint() gives the URLs jupyter_client connects to', (transport) => {
    const info = parseConnectionInfo(written[transport].text);
    for (const ch of CHANNELS) expect(endpoint(info, ch)).toBe(written[transport].urls[ch]);
  });
});

describe('parseConnectionInfo: defaults and extras', () => {
  it('defaults transport to tcp, ip to 127.0.0.1, key to empty, scheme to hmac-sha256', () => {
    const { transport, ip, key, signature_scheme, ...ports } = valid();
    void [transport, ip, key, signature_scheme];
    expect(parseConnectionInfo(JSON.stringify(ports))).toMatchObject({
      transport: 'tcp',
      ip: '127.0.0.1',
      key: '',
      signature_scheme: 'hmac-sha256',
    });
  });

  it('drops a hint field of the wrong type instead of refusing the file', () => {
    const info = parseConnectionInfo(JSON.stringify(valid({ kernel_name: 3, jupyter_session: null })));
    expect(info.kernel_name).toBeUndefined();
    expect(info.jupyter_session).toBeUndefined();
    expect(info.shell_port).toBe(50001);
  });

  it('keeps fields it does not know', () => {
    const info = parseConnectionInfo(JSON.stringify(valid({ jupyter_session: '/home/u/n.ipynb', extra: { a: 1 } })));
    expect(info.jupyter_session).toBe('/home/u/n.ipynb');
    expect(info.extra).toEqual({ a: 1 });
  });
});

describe('parseConnectionInfo rejects with BAD_CONNECTION_FILE', () => {
  it.each([
    ['not JSON', '{"shell_port": 1,', undefined],
    ['empty text', '', undefined],
    ['JSON null', 'null', undefined],
    ['JSON number', '42', undefined],
    ['JSON string', '"tcp"', undefined],
    ['an array', '[]', undefined],
    ['unknown transport', JSON.stringify(valid({ transport: 'udp' })), undefined],
    ['transport in upper case', JSON.stringify(valid({ transport: 'TCP' })), undefined],
    ['empty ip', JSON.stringify(valid({ ip: '' })), undefined],
    ['numeric ip', JSON.stringify(valid({ ip: 127001 })), undefined],
    ['missing shell_port', JSON.stringify(valid({ shell_port: undefined })), 'shell_port'],
    ['port as a string', JSON.stringify(valid({ iopub_port: '50002' })), 'iopub_port'],
    ['port 0 (not yet allocated)', JSON.stringify(valid({ stdin_port: 0 })), 'stdin_port'],
    ['negative port', JSON.stringify(valid({ control_port: -1 })), 'control_port'],
    ['port above 65535', JSON.stringify(valid({ hb_port: 65536 })), 'hb_port'],
    ['fractional port', JSON.stringify(valid({ hb_port: 5000.5 })), 'hb_port'],
    ['null port', JSON.stringify(valid({ shell_port: null })), 'shell_port'],
    ['numeric key', JSON.stringify(valid({ key: 1234 })), undefined],
    ['key as bytes array', JSON.stringify(valid({ key: [97, 98] })), undefined],
    ['numeric signature_scheme', JSON.stringify(valid({ signature_scheme: 256 })), undefined],
  ])('%s', (_name, text, field) => {
    const err = thrown(() => parseConnectionInfo(text, '/run/kernel-x.json'));
    expect(isFleetError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'BAD_CONNECTION_FILE', context: { source: '/run/kernel-x.json' } });
    if (field !== undefined) expect(err).toMatchObject({ context: { field } });
  });

  it.each([
    ['JSON null', 'null', '/run/k.json must hold a JSON object (got null)'],
    ['an array', '[]', '/run/k.json must hold a JSON object (got an empty array)'],
    ['unknown transport', JSON.stringify(valid({ transport: 'udp' })), '/run/k.json: transport must be one of "tcp", "ipc" (got "udp")'],
    ['empty ip', JSON.stringify(valid({ ip: '' })), '/run/k.json: ip must be a non-empty string (got "")'],
    ['missing port', JSON.stringify(valid({ hb_port: undefined })), '/run/k.json: hb_port is missing: it must be a port number 1-65535'],
    ['port as a string', JSON.stringify(valid({ iopub_port: '50002' })), '/run/k.json: iopub_port must be a port number 1-65535 (got "50002")'],
    ['port above 65535', JSON.stringify(valid({ hb_port: 65536 })), '/run/k.json: hb_port must be a port number 1-65535 (got 65536)'],
    ['numeric signature_scheme', JSON.stringify(valid({ signature_scheme: 256 })), '/run/k.json: signature_scheme must be a string such as "hmac-sha256" (got 256)'],
  ])('message for %s names the file, the field, the value and what is allowed', (_name, text, message) => {
    expect((thrown(() => parseConnectionInfo(text, '/run/k.json')) as Error).message).toBe(message);
  });

  it('never echoes a key that is not a string', () => {
    const err = thrown(() => parseConnectionInfo(JSON.stringify(valid({ key: 987654321 })), '/run/k.json')) as Error;
    expect(err.message).toBe('/run/k.json: key must be a string, not number');
  });

  it('keeps the JSON error as cause', () => {
    const err = thrown(() => parseConnectionInfo('{'));
    expect((err as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('accepts the port bounds 1 and 65535', () => {
    expect(parseConnectionInfo(JSON.stringify(valid({ shell_port: 1, hb_port: 65535 })))).toMatchObject({ shell_port: 1, hb_port: 65535 });
  });
});

describe('endpoint', () => {
  const ports = { shell_port: 1001, iopub_port: 1002, stdin_port: 1003, control_port: 1004, hb_port: 1005 };
  it.each<[string, 'tcp' | 'ipc', string, Channel, string]>([
    ['tcp loopback', 'tcp', '127.0.0.1', 'shell', 'tcp://127.0.0.1:1001'],
    ['tcp all interfaces', 'tcp', '0.0.0.0', 'iopub', 'tcp://0.0.0.0:1002'],
    ['tcp hostname', 'tcp', 'localhost', 'stdin', 'tcp://localhost:1003'],
    ['tcp ipv6 loopback is bracketed', 'tcp', '::1', 'control', 'tcp://[::1]:1004'],
    ['tcp ipv6 full address is bracketed', 'tcp', 'fe80::1:2:3:4', 'hb', 'tcp://[fe80::1:2:3:4]:1005'],
    ['tcp ipv6 already bracketed stays as is', 'tcp', '[::1]', 'shell', 'tcp://[::1]:1001'],
    ['ipc absolute path: <ip>-<port>', 'ipc', '/tmp/kernel-abc', 'shell', 'ipc:///tmp/kernel-abc-1001'],
    ['ipc relative path', 'ipc', 'kernel', 'hb', 'ipc://kernel-1005'],
  ])('%s', (_name, transport, ip, channel, expected) => {
    expect(endpoint({ transport, ip, ...ports }, channel)).toBe(expected);
  });

  it.each(CHANNELS.map((c) => [c] as const))('%s uses its own port field', (channel) => {
    expect(portField(channel)).toBe(`${channel}_port`);
    expect(endpoint({ transport: 'tcp', ip: 'h', ...ports }, channel)).toBe(`tcp://h:${ports[portField(channel)]}`);
  });
});

describe('writeConnectionFile / readConnectionFile', () => {
  let dir: string;
  let oldUmask: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-conn-'));
    oldUmask = process.umask(0o022);
  });
  afterEach(async () => {
    process.umask(oldUmask);
    await rm(dir, { recursive: true, force: true });
  });

  const info = (): ConnectionInfo => parseConnectionInfo(JSON.stringify(valid({ key: newKey(), kernel_name: 'x', jupyter_session: '/nb.ipynb' })));

  it('round-trips through disk and leaves only the target file behind', async () => {
    const path = join(dir, 'kernel-1.json');
    const i = info();
    await writeConnectionFile(path, i);
    expect(await readConnectionFile(path)).toEqual(i);
    expect(await readdir(dir)).toEqual(['kernel-1.json']);
  });

  it.each([0o000, 0o022, 0o077])('creates the file with mode 0600 whatever the umask (%o)', async (umask) => {
    process.umask(umask);
    const path = join(dir, 'kernel.json');
    await writeConnectionFile(path, info());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('replaces an existing world-readable file atomically: new inode, mode 0600, complete content', async () => {
    const path = join(dir, 'kernel.json');
    await writeFile(path, '{"old": true}', { mode: 0o644 });
    const before = await stat(path);
    const i = info();
    await writeConnectionFile(path, i);
    const after = await stat(path);
    expect(after.ino).not.toBe(before.ino); // renamed into place, not rewritten in place
    expect(after.mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(i);
  });

  it('concurrent readers only ever see a complete file', async () => {
    const path = join(dir, 'kernel.json');
    const big = { ...info(), padding: 'x'.repeat(1 << 20) } as ConnectionInfo;
    await writeConnectionFile(path, big);
    let stop = false;
    const reader = (async () => {
      let reads = 0;
      while (!stop) {
        const parsed = JSON.parse(await readFile(path, 'utf8')) as ConnectionInfo;
        expect(parsed.padding).toHaveLength(1 << 20);
        reads++;
      }
      return reads;
    })();
    for (let n = 0; n < 20; n++) await writeConnectionFile(path, { ...big, key: newKey() });
    stop = true;
    expect(await reader).toBeGreaterThan(0);
  });

  it('concurrent writes to the same path all succeed and leave one complete file', async () => {
    const path = join(dir, 'kernel.json');
    const infos = Array.from({ length: 8 }, info);
    await Promise.all(infos.map((i) => writeConnectionFile(path, i)));
    const onDisk = await readConnectionFile(path);
    expect(infos).toContainEqual(onDisk);
    expect(await readdir(dir)).toEqual(['kernel.json']);
  });

  it('readConnectionFile of a missing file → BAD_CONNECTION_FILE naming the path', async () => {
    const path = join(dir, 'absent.json');
    await expect(readConnectionFile(path)).rejects.toMatchObject({ code: 'BAD_CONNECTION_FILE', context: { source: path } });
  });

  it('readConnectionFile of an invalid file → BAD_CONNECTION_FILE naming the path', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify(valid({ transport: 'udp' })));
    await expect(readConnectionFile(path)).rejects.toMatchObject({ code: 'BAD_CONNECTION_FILE', context: { source: path } });
  });
});

describe('newKey', () => {
  it('is 64 lower-case hex characters (32 random bytes)', () => {
    expect(newKey()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is different every time and not biased', () => {
    const keys = Array.from({ length: 1000 }, newKey);
    expect(new Set(keys).size).toBe(keys.length);
    // Every hex digit appears; over 64 000 digits each is expected ~4000 times.
    const counts = new Map<string, number>();
    for (const ch of keys.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(16);
    for (const n of counts.values()) expect(n).toBeGreaterThan(3000);
  });
});
