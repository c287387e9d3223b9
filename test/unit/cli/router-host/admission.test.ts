import { describe, expect, it } from 'vitest';
import { admit, type Install } from '../../../../src/cli/router-host/admission.js';
import type { StubHello } from '../../../../src/cli/router-host/protocol.js';
import { parseRouterArgs, type RouterArgs } from '../../../../src/cli/router-host/router-args.js';

const HOST: Install = { node: '/usr/bin/node', entry: '/opt/fleet/dist/bundle/main.js' };
const hello = (env: Record<string, string> = {}, v = 1): StubHello => ({ v, pid: 7, ppid: 1, cwd: '/nb', argv: [HOST.node, HOST.entry, 'router'], env });
const FLAGS: RouterArgs = { ok: true, flags: { connectionFile: '/r/k.json', logLevel: 'info' } };

describe('admit', () => {
  it.each([
    ['its own install, a router of the fleet', hello(), HOST, FLAGS, { kind: 'serve', flags: { connectionFile: '/r/k.json', logLevel: 'info' } }],
    ['another protocol version', hello({}, 2), HOST, FLAGS, { kind: 'fallback', reason: 'protocol version 2 (this host speaks 1)' }],
    ['another node', hello(), { ...HOST, node: '/opt/node22/bin/node' }, FLAGS, { kind: 'fallback', reason: 'another node (/opt/node22/bin/node; this host runs /usr/bin/node)' }],
    ['another entry', hello(), { ...HOST, entry: '/other/main.js' }, FLAGS, { kind: 'fallback', reason: 'another llmspell-fleet (/other/main.js; this host runs /opt/fleet/dist/bundle/main.js)' }],
    ['flags that do not parse', hello(), HOST, { ok: false, problem: 'bad' } as RouterArgs, { kind: 'fallback', reason: 'bad' }],
    ['--local', hello(), HOST, { ok: true, flags: { connectionFile: '/r/k.json', local: true } } as RouterArgs, { kind: 'fallback', reason: 'a --local router runs its private backend in its own process' }],
    ['LLMSPELL_FLEET_MODE=local', hello({ LLMSPELL_FLEET_MODE: 'local' }), HOST, FLAGS, { kind: 'fallback', reason: 'a --local router runs its private backend in its own process' }],
  ] as const)('%s', (_name, h, stub, args, expected) => {
    expect(admit({ hello: h, host: HOST, stub, args })).toEqual(expected);
  });
});

describe('parseRouterArgs (the router command definition itself)', () => {
  it.each([
    [['router', '--connection-file', '/r/k.json'], { ok: true, flags: { connectionFile: '/r/k.json', logLevel: 'info' } }],
    [
      ['router', '--connection-file', '/r/k.json', '--spec-dir', '/s', '--runtime', 'lua', '--provider', 'openai', '--log-level', 'debug'],
      { ok: true, flags: { connectionFile: '/r/k.json', specDir: '/s', runtime: 'lua', provider: 'openai', logLevel: 'debug' } },
    ],
    [['router', '--connection-file=/r/k.json', '--local'], { ok: true, flags: { connectionFile: '/r/k.json', local: true, logLevel: 'info' } }],
    [['router'], { ok: false, problem: "the router's command line does not parse (commander.missingMandatoryOptionValue)" }],
    [['router', '--connection-file', '/r/k.json', '--bogus'], { ok: false, problem: "the router's command line does not parse (commander.unknownOption)" }],
    [['router', '--help'], { ok: false, problem: "the router's command line does not parse (commander.helpDisplayed)" }],
    [['manager', '--foreground'], { ok: false, problem: 'the command is "manager", not "router"' }],
    [[], { ok: false, problem: 'the command is "", not "router"' }],
  ])('%j', async (args, expected) => {
    expect(await parseRouterArgs(args)).toEqual(expected);
  });
});
