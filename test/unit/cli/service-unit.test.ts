import { describe, expect, it } from 'vitest';
import { serviceEnvFilePath, systemdAssignment, systemdState, systemdWord, userUnit, userUnitPath, type IsActiveResult } from '../../../src/cli/service-unit.js';

describe('userUnitPath', () => {
  it.each([
    [{}, '/home/ada/.config/systemd/user/llmspell-fleet.service'],
    [{ XDG_CONFIG_HOME: '/srv/cfg' }, '/srv/cfg/systemd/user/llmspell-fleet.service'],
    // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
    [{ XDG_CONFIG_HOME: 'cfg' }, '/home/ada/.config/systemd/user/llmspell-fleet.service'],
    [{ XDG_CONFIG_HOME: '' }, '/home/ada/.config/systemd/user/llmspell-fleet.service'],
  ])('%j -> %s', (env, expected) => {
    expect(userUnitPath(env, '/home/ada')).toBe(expected);
  });

  it('puts the keys file beside the other config', () => {
    expect(serviceEnvFilePath({ XDG_CONFIG_HOME: '/srv/cfg' }, '/home/ada')).toBe('/srv/cfg/llmspell-fleet/env');
  });
});

describe('systemdWord', () => {
  it.each([
    ['/usr/bin/node', '/usr/bin/node'],
    ['--foreground', '--foreground'],
    ['/home/ada/my fleet', '"/home/ada/my fleet"'],
    ['/opt/50%/x', '/opt/50%%/x'],
    ['/opt/$HOME/x', '/opt/$$HOME/x'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ["it's", '"it\'s"'],
    ['', '""'],
  ])('%j -> %s', (word, expected) => {
    expect(systemdWord(word)).toBe(expected);
  });
});

describe('systemdAssignment', () => {
  it.each([
    ['LLMSPELL_FLEET_HOME', '/home/ada/.llmspell/fleet', '"LLMSPELL_FLEET_HOME=/home/ada/.llmspell/fleet"'],
    ['LLMSPELL_FLEET_HOME', '/srv/a b/%h', '"LLMSPELL_FLEET_HOME=/srv/a b/%%h"'],
    ['LLMSPELL_FLEET_CONFIG', '/x/"q".toml', '"LLMSPELL_FLEET_CONFIG=/x/\\"q\\".toml"'],
  ])('%s=%s -> %s', (name, value, expected) => {
    expect(systemdAssignment(name, value)).toBe(expected);
  });
});

describe('userUnit', () => {
  const base = { node: '/usr/bin/node', cli: '/opt/fleet/dist/src/cli/main.js', home: '/home/ada/.llmspell/fleet', envFile: '/home/ada/.config/llmspell-fleet/env' };
  const lines = (text: string) => text.split('\n');

  it.each([
    ['ExecStart runs the manager in the foreground with the absolute node and CLI, the home pinned', base, 'ExecStart=/usr/bin/node /opt/fleet/dist/src/cli/main.js manager --foreground --home /home/ada/.llmspell/fleet'],
    ['the home also reaches the backends through the environment', base, 'Environment="LLMSPELL_FLEET_HOME=/home/ada/.llmspell/fleet"'],
    ['a config named at install time is kept', { ...base, config: '/etc/fleet.toml' }, 'Environment="LLMSPELL_FLEET_CONFIG=/etc/fleet.toml"'],
    ['keys come from an optional file the unit names', base, 'EnvironmentFile=-/home/ada/.config/llmspell-fleet/env'],
    ['restarts a manager that failed', base, 'Restart=on-failure'],
    ['a stop leaves the backends for the next manager to adopt', base, 'KillMode=process'],
    ['starts with the user session', base, 'WantedBy=default.target'],
    ['no privilege gain', base, 'NoNewPrivileges=yes'],
    ['files it creates are private', base, 'UMask=0077'],
    ['paths with spaces are quoted', { ...base, home: '/home/a b/fleet' }, 'ExecStart=/usr/bin/node /opt/fleet/dist/src/cli/main.js manager --foreground --home "/home/a b/fleet"'],
  ])('%s', (_what, options, line) => {
    expect(lines(userUnit(options))).toContain(line);
  });

  it('has one section of each kind, in order, and no config line without a config', () => {
    const text = userUnit(base);
    expect(lines(text).filter((l) => l.startsWith('['))).toEqual(['[Unit]', '[Service]', '[Install]']);
    expect(text).not.toContain('LLMSPELL_FLEET_CONFIG');
  });

  it('leaves out options that break a V8 process or need namespaces', () => {
    const text = userUnit(base);
    for (const option of ['MemoryDenyWriteExecute', 'RestrictNamespaces', 'PrivateTmp', 'ProtectSystem']) expect(text).not.toContain(option);
  });
});

describe('systemdState', () => {
  const r = (over: Partial<IsActiveResult>): IsActiveResult => ({ code: 0, stdout: '', stderr: '', ...over });
  it.each([
    ['active', r({ stdout: 'active\n' }), { kind: 'unit', state: 'active' }],
    ['inactive (exit 3)', r({ code: 3, stdout: 'inactive\n' }), { kind: 'unit', state: 'inactive' }],
    ['failed', r({ code: 3, stdout: 'failed\n' }), { kind: 'unit', state: 'failed' }],
    ['no bus (no systemd running)', r({ code: 1, stderr: 'Failed to connect to bus: No medium found\n' }), { kind: 'no-user-manager', detail: 'Failed to connect to bus: No medium found' }],
    ['silent failure', r({ code: 1 }), { kind: 'no-user-manager', detail: 'systemctl exited with 1' }],
    ['no systemctl', r({ code: undefined, spawnError: 'ENOENT' }), { kind: 'no-systemctl' }],
  ])('%s', (_what, result, expected) => {
    expect(systemdState(result)).toEqual(expected);
  });
});
