import { describe, expect, it } from 'vitest';
import { diedBeforeReply, exitNotice, heartbeatNotice, notice, tooLarge } from '../../../src/router/notices.js';

const b = { key: 'lua/openai', pid: 42 };

describe('notices', () => {
  it.each([
    [{ kind: 'restarting' } as const, 'llmspell-fleet: the lua/openai backend (pid 42) was killed by SIGKILL. Its state is lost; a new one is starting.\n'],
    [{ kind: 'restarts-off' } as const, 'llmspell-fleet: the lua/openai backend (pid 42) was killed by SIGKILL. Its state is lost; automatic restarts are off (router.restart_limit = 0); the next request starts a new one.\n'],
    [{ kind: 'too-many', deaths: 6 } as const, 'llmspell-fleet: the lua/openai backend (pid 42) was killed by SIGKILL. Its state is lost; it died 6 times in a minute, so it is not restarted until the next request.\n'],
  ])('exitNotice after %j', (after, text) => {
    expect(exitNotice(b, 'was killed by SIGKILL', after)).toBe(text);
  });

  it('names an unknown pid instead of printing undefined', () => {
    expect(exitNotice({ key: 'python/openai', pid: undefined }, 'exited with code 1', { kind: 'restarting' })).toContain('(pid unknown)');
  });

  it('diedBeforeReply says what happened and what to do', () => {
    expect(diedBeforeReply(b, 'exited with code 3')).toBe('the lua/openai backend (pid 42) exited with code 3 before it answered; run it again');
  });

  it("a crash's notice and its cell's error end with what it wrote last", () => {
    const last = 'lua: out of memory\nstack traceback: [C]: in ?';
    expect(exitNotice(b, 'exited with code 1', { kind: 'restarting' }, last)).toBe(
      'llmspell-fleet: the lua/openai backend (pid 42) exited with code 1. Its state is lost; a new one is starting.\nIts last output:\nlua: out of memory\nstack traceback: [C]: in ?\n',
    );
    expect(diedBeforeReply(b, 'exited with code 1', last)).toBe(
      'the lua/openai backend (pid 42) exited with code 1 before it answered; run it again. Its last output:\nlua: out of memory\nstack traceback: [C]: in ?',
    );
  });

  it.each([
    [false, 2600, /^llmspell-fleet: the lua\/openai backend \(pid 42\) has not answered its heartbeat for 2\.6 s .*restart the kernel to replace it/],
    [true, 0, /^llmspell-fleet: the lua\/openai backend \(pid 42\) answers its heartbeat again\.\n$/],
  ])('heartbeatNotice responsive=%s', (responsive, silentMs, pattern) => {
    expect(heartbeatNotice(b, responsive, silentMs)).toMatch(pattern);
  });

  it.each([
    ['this execute_request', 2 * 1024 * 1024, 1024 * 1024, 'this execute_request is 2.0 MB, more than router.max_message_mb (1.0 MB) allows (raise it in fleet.toml [router]).'],
    ['a display_data from the backend', 150 * 1024 * 1024, 100 * 1024 * 1024, 'a display_data from the backend is 150.0 MB, more than router.max_message_mb (100.0 MB) allows (raise it in fleet.toml [router]).'],
  ])('tooLarge(%s)', (what, bytes, limit, text) => {
    expect(tooLarge(what, bytes, limit)).toBe(text);
  });

  it('notice prefixes and ends a line', () => {
    expect(notice('x')).toBe('llmspell-fleet: x\n');
  });
});
