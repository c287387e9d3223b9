import { describe, expect, it } from 'vitest';
import { wantsEarlyManager } from '../../../src/cli/early-manager.js';

describe('wantsEarlyManager', () => {
  it.each([
    ['a router of the fleet, as kernel.json runs it', ['router', '--connection-file', '/r/k.json'], {}, true],
    ['the --opt=value form', ['router', '--connection-file=/r/k.json', '--log-level', 'warn'], {}, true],
    ['a router pinned to a runtime', ['router', '--connection-file', '/r/k.json', '--runtime', 'lua'], {}, true],
    ['a local router: it starts its own backend', ['router', '--connection-file', '/r/k.json', '--local'], {}, false],
    ['LLMSPELL_FLEET_MODE=local', ['router', '--connection-file', '/r/k.json'], { LLMSPELL_FLEET_MODE: 'local' }, false],
    ['LLMSPELL_FLEET_MODE=fleet', ['router', '--connection-file', '/r/k.json'], { LLMSPELL_FLEET_MODE: 'fleet' }, true],
    ['router --help', ['router', '--help'], {}, false],
    ['router -h with a connection file', ['router', '--connection-file', '/r/k.json', '-h'], {}, false],
    ['no connection file: commander will refuse it', ['router'], {}, false],
    ['the router host, as a kernel stub starts it', ['router-host'], {}, true],
    ['the router host for a local kernel', ['router-host'], { LLMSPELL_FLEET_MODE: 'local' }, false],
    ['router-host --help', ['router-host', '--help'], {}, false],
    ['another command', ['list'], {}, false],
    ['the manager itself', ['manager', '--foreground'], {}, false],
    ['nothing', [], {}, false],
    ['options before the command', ['--version', 'router', '--connection-file', 'x'], {}, false],
  ])('%s', (_name, args, env, expected) => {
    expect(wantsEarlyManager(args, env)).toBe(expected);
  });
});
