import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HumanProblemLines, gist, humanLine, problemKey, type LogRecord } from '../../../src/cli/human-stderr.js';
import { routerLogger } from '../../../src/cli/router-log.js';

const LOG = '/home/u/.llmspell/fleet/logs/router-42.log';

describe('humanLine', () => {
  it.each<[string, LogRecord, string]>([
    [
      'a backend that cannot start',
      { msg: 'backend unavailable', requirement: 'lua/openai', reason: 'llmspell not found on PATH' },
      `llmspell-fleet: cannot start lua/openai backend: llmspell not found on PATH (details: ${LOG})\n`,
    ],
    ['a backend that exited', { msg: 'backend exited', backend: 'k-1', reason: 'was killed by SIGKILL' }, `llmspell-fleet: backend k-1 was killed by SIGKILL (details: ${LOG})\n`],
    ['an error object as pino writes it', { msg: 'heartbeat failed', err: { type: 'Error', message: 'socket closed', stack: 'Error: socket closed\n at x' } }, `llmspell-fleet: heartbeat failed: socket closed (details: ${LOG})\n`],
    ['a message alone', { msg: 'fleet manager connection lost; reconnecting (leases stay valid)' }, `llmspell-fleet: fleet manager connection lost; reconnecting (leases stay valid) (details: ${LOG})\n`],
    ['no message', {}, `llmspell-fleet: problem (details: ${LOG})\n`],
  ])('%s', (_, record, expected) => {
    expect(humanLine(record, LOG)).toBe(expected);
  });

  it('cuts a long reason so that the line stays one short line', () => {
    const line = humanLine({ msg: 'backend unavailable', requirement: 'lua/openai', reason: 'x'.repeat(1000) }, LOG);
    expect(line.split('\n')).toHaveLength(2);
    expect(line.length).toBeLessThan(300 + LOG.length + 40);
  });
});

describe('gist', () => {
  const failed = 'lua/openai backend (kernel k1) exited with code 1 before it answered kernel_info; its last output:';
  it.each([
    ['one line', 'socket closed', 'socket closed'],
    ['the cause in the last output, prefix and PATH list dropped', `${failed}\n--- llmspell-fleet 2026: starting ---\n{"level":40}\nllmspell-fleet adapter: llmspell executable "llmspell" was not found on PATH (/a/b:/c/d:/e/f:/g/h:/i/j:/k/l:/m/n:/o/p:/q/r:/s/t:/u/v:/w/x:/y/z); build it\n{"level":50}\nsee /h/logs/k1.log`, 'llmspell executable "llmspell" was not found on PATH; build it'],
    ['no plain line in the output: the first line, without its dangling colon', `${failed}\n{"level":50}\nsee /h/logs/k1.log`, 'lua/openai backend (kernel k1) exited with code 1 before it answered kernel_info'],
    ['a short parenthesis stays', 'exited (code 1)', 'exited (code 1)'],
  ])('%s', (_, input, expected) => {
    expect(gist(input)).toBe(expected);
  });
});

describe('problemKey', () => {
  it.each<[LogRecord, LogRecord, boolean]>([
    // The same backend failing again (another request, another reason text) is the same problem.
    [{ msg: 'backend unavailable', requirement: 'lua/openai', reason: 'a' }, { msg: 'backend unavailable', requirement: 'lua/openai', reason: 'b' }, true],
    [{ msg: 'backend unavailable', requirement: 'lua/openai' }, { msg: 'backend unavailable', requirement: 'javascript/openai' }, false],
    [{ msg: 'message dropped', channel: 'frontend.shell' }, { msg: 'message dropped', channel: 'frontend.control' }, false],
    [{ msg: 'fleet manager unreachable', err: 'x' }, { msg: 'fleet manager unreachable', err: 'y' }, true],
    [{ msg: 'backend exited', backend: 'k-1' }, { msg: 'backend heartbeat silent', backend: 'k-1' }, false],
  ])('%j ~ %j: %s', (a, b, same) => {
    expect(problemKey(a) === problemKey(b)).toBe(same);
  });
});

describe('HumanProblemLines', () => {
  it('writes one line per distinct problem, whatever the number of log lines, and never JSON', () => {
    const out: string[] = [];
    const sink = new HumanProblemLines({ logFile: LOG, write: (line) => out.push(line) });
    const unavailable = (req: string, n: number) => JSON.stringify({ level: 50, msg: 'backend unavailable', requirement: req, reason: `attempt ${n}` }) + '\n';
    for (let n = 0; n < 50; n++) sink.write(unavailable('lua/openai', n));
    sink.write(unavailable('javascript/openai', 0) + unavailable('javascript/openai', 1));
    sink.write('not json\n');
    sink.write('not json either\n');
    expect(out).toEqual([
      `llmspell-fleet: cannot start lua/openai backend: attempt 0 (details: ${LOG})\n`,
      `llmspell-fleet: cannot start javascript/openai backend: attempt 0 (details: ${LOG})\n`,
      `llmspell-fleet: unreadable log line (details: ${LOG})\n`,
    ]);
  });

  it('stops at maxProblems distinct problems', () => {
    const out: string[] = [];
    const sink = new HumanProblemLines({ logFile: LOG, write: (line) => out.push(line), maxProblems: 2 });
    for (const req of ['a/x', 'b/x', 'c/x']) sink.write(JSON.stringify({ msg: 'backend unavailable', requirement: req }) + '\n');
    expect(out).toHaveLength(2);
  });
});

describe('routerLogger', () => {
  it('writes JSON to its file (0600) and a human line, once, for warnings and errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-log-'));
    try {
      const file = join(dir, 'router.log');
      const said: string[] = [];
      const logger = routerLogger({ file, level: 'info', stderr: (line) => said.push(line) });
      logger.info({ pid: 1 }, 'router listening');
      for (let n = 0; n < 3; n++) logger.error({ requirement: 'lua/openai', reason: `no llmspell ${n}` }, 'backend unavailable');
      logger.flush();
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      expect(lines.map((l) => l.msg)).toEqual(['router listening', 'backend unavailable', 'backend unavailable', 'backend unavailable']);
      expect(said).toEqual([`llmspell-fleet: cannot start lua/openai backend: no llmspell 0 (details: ${file})\n`]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
