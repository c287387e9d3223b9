import { execFile } from 'node:child_process';

export interface CommandRun {
  /** The exit code; 1 when the command was killed or could not start. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion with exactly `env`; a non-zero exit is a result to assert on,
 * not an error (src/shared/process.ts's runCommand rejects instead, as probes want).
 */
export function runToExit(file: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(file, args, { env: options.env, timeout: options.timeoutMs ?? 90_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
