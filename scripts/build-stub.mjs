#!/usr/bin/env node
/**
 * dist/native/kernel-stub, built from native/kernel-stub.c by `npm run build` after the bundle:
 * the ~1 MB program the router kernelspec runs for each notebook, handing the session to the
 * per-user router host (issue #12 item 5, README "Shared router host").
 *
 * A machine without a C compiler still gets a working install: the build says so and leaves no
 * stub, and `llmspell-fleet install` then writes the standalone Node router's command line. A
 * compiler that is there but fails is an error, so a broken stub never ships.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const STUB_SOURCE = join('native', 'kernel-stub.c');
export const STUB_OUTPUT = join('dist', 'native', 'kernel-stub');

/** Pure: the first compiler of $CC, cc, gcc, clang found on PATH, or undefined. */
export function findCompiler(env, exists = existsSync) {
  const names = [env.CC, 'cc', 'gcc', 'clang'].filter((name) => typeof name === 'string' && name !== '');
  for (const name of names) {
    if (name.includes('/')) {
      if (exists(name)) return name;
      continue;
    }
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir !== '' && exists(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

/** Builds the stub under `root`; returns its path, or undefined when no compiler is found. Throws when compiling fails. */
export function buildStub({ root, env = process.env, compiler = findCompiler(env) } = {}) {
  const output = resolve(root, STUB_OUTPUT);
  rmSync(output, { force: true });
  if (compiler === undefined) return undefined;
  mkdirSync(dirname(output), { recursive: true });
  execFileSync(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', output, resolve(root, STUB_SOURCE)], { stdio: ['ignore', 'inherit', 'inherit'] });
  return output;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    if (buildStub({ root }) === undefined) {
      process.stderr.write('scripts/build-stub.mjs: no C compiler (cc, gcc or clang) on PATH, so no kernel stub: each notebook will run its own Node router (about 57 MB instead of about 1); install gcc and rebuild to get the shared router host\n');
    }
  } catch (error) {
    process.stderr.write(`scripts/build-stub.mjs: compiling ${STUB_SOURCE} failed (the compiler's message is above); fix it or unset CC:\n${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
