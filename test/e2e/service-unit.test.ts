/**
 * `llmspell-fleet service install/status/uninstall --user` with the built CLI, and systemd's own
 * `systemd-analyze --user verify` on the unit it writes. No systemd runs here: verify needs only
 * an existing, private XDG_RUNTIME_DIR, and status must say that no user manager answers.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/fleet-env.js';
import { runToExit, type CommandRun } from '../helpers/run.js';

let dir = '';
let env: NodeJS.ProcessEnv = {};
let unitPath = '';

const cli = (...args: string[]): Promise<CommandRun> => runToExit(process.execPath, [CLI, ...args], { env });

function verify(path: string): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['--user', 'verify', path], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lf-service-unit-'));
  const runtime = join(dir, 'run');
  await mkdir(runtime, { mode: 0o700 });
  // A bus address or a real runtime dir would let a systemd on the test machine answer.
  const { DBUS_SESSION_BUS_ADDRESS: _bus, LLMSPELL_FLEET_CONFIG: _config, ...rest } = process.env;
  env = { ...rest, HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'config'), XDG_RUNTIME_DIR: runtime, LLMSPELL_FLEET_HOME: join(dir, 'fleet'), USER: 'ada' };
  unitPath = join(dir, 'config', 'systemd', 'user', 'llmspell-fleet.service');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('llmspell-fleet service (systemd user unit)', () => {
  it('refuses install without --user, naming the flag', async () => {
    const run = await cli('service', 'install');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pass --user');
    expect(existsSync(unitPath)).toBe(false);
  });

  it('status before install: not installed, the path, the commands, and that no systemd answers', async () => {
    const run = await cli('service', 'status');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`not installed: ${unitPath} does not exist`);
    expect(run.stdout).toContain('systemctl --user enable --now llmspell-fleet.service');
    expect(run.stdout).toMatch(/systemd: no user manager answers here \(.+\)/);
  });

  it('install --user writes a private unit under $XDG_CONFIG_HOME that systemd-analyze verify accepts', async () => {
    const run = await cli('service', 'install', '--user');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`wrote ${unitPath}`);
    expect(run.stdout).toContain('loginctl enable-linger ada');
    // The default config lets an idle manager exit: install says why that matters for a service.
    expect(run.stdout).toContain('set manager_idle_seconds = 0 for a service');
    expect((await stat(unitPath)).mode & 0o777).toBe(0o600);
    const unit = await readFile(unitPath, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${CLI} manager --foreground --home ${join(dir, 'fleet')}\n`);
    const verified = await verify(unitPath);
    expect(verified, verified.stderr).toMatchObject({ code: 0, stderr: '' });
  });

  it('verify is a real check: a broken copy of the unit fails it', async () => {
    const broken = join(dir, 'broken.service');
    await writeFile(broken, (await readFile(unitPath, 'utf8')).replace(`ExecStart=${process.execPath}`, 'ExecStart=/nonexistent/node'));
    const verified = await verify(broken);
    expect(verified.code).not.toBe(0);
    expect(verified.stderr).toContain('/nonexistent/node is not executable');
  });

  it('install again leaves an unchanged unit alone; status says it is installed and current', async () => {
    expect((await cli('service', 'install', '--user')).stdout).toContain(`unchanged: ${unitPath}`);
    const run = await cli('service', 'status', '--json');
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as { unit: string; installed: boolean; current: boolean; systemd: { kind: string } };
    expect(status).toMatchObject({ unit: unitPath, installed: true, current: true, systemd: { kind: 'no-user-manager' } });
  });

  it('status notices a unit written for another home', async () => {
    const run = await cli('service', 'status', '--home', join(dir, 'elsewhere'));
    expect(run.stdout).toContain(`installed: ${unitPath}`);
    expect(run.stdout).toContain('it differs from what install writes now');
  });

  it('uninstall --user removes the unit and the link `systemctl enable` made', async () => {
    const wants = join(dir, 'config', 'systemd', 'user', 'default.target.wants');
    await mkdir(wants, { recursive: true });
    await symlink(unitPath, join(wants, 'llmspell-fleet.service'));
    const run = await cli('service', 'uninstall', '--user');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`removed ${unitPath}`);
    expect(existsSync(unitPath)).toBe(false);
    await expect(lstat(join(wants, 'llmspell-fleet.service'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await cli('service', 'status')).stdout).toContain('not installed');
    expect((await cli('service', 'uninstall', '--user')).stdout).toContain('not installed');
  });

  it('check fails with a clear error when no manager runs, and starts none', async () => {
    const run = await cli('service', 'check');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no fleet manager answers');
    expect(existsSync(join(dir, 'fleet', 'manager.sock'))).toBe(false);
  });
});
