/**
 * How a router kernelspec runs its router, chosen at install: through the kernel stub and one
 * per-user router host, or one Node router per notebook. Apart from install.ts because the
 * choice depends on what was built (the stub), not on where the kernelspec goes.
 */
import { execFile } from 'node:child_process';
import { FleetError } from '../shared/errors.js';
import { defaultStubPath } from './paths.js';

/**
 * shared: the kernel stub hands every notebook to one per-user router host (about 1 MB per
 * notebook); process: each notebook runs its own Node router (about 57 MB), as before the host.
 */
export type RouterMode = 'shared' | 'process';
export const ROUTER_MODES: readonly RouterMode[] = ['shared', 'process'];

/** The stub's own usage exit (kernel-stub.c: no router command line). */
const STUB_USAGE_EXIT = 2;

/**
 * Whether the stub runs here: started without arguments it prints its usage and exits 2. A file
 * that is missing, not executable, or built for another machine (a packed dist/ from elsewhere)
 * does not, and a kernelspec that ran it would fail before any fallback could help.
 */
function stubRuns(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, [], { timeout: 10_000, env: {} }, (error) => resolve((error as { code?: unknown } | null)?.code === STUB_USAGE_EXIT));
  });
}

/** Shared when the stub was built, unless asked otherwise; asking for shared without a stub is an error. */
export async function chooseRouterMode(options: { routerMode?: RouterMode; stubPath?: string }): Promise<RouterMode> {
  if (options.routerMode !== undefined && !ROUTER_MODES.includes(options.routerMode)) {
    throw new FleetError('BAD_INSTALL_OPTIONS', `unknown router mode ${JSON.stringify(options.routerMode)}: use shared or process`, {
      option: 'routerMode',
      value: options.routerMode,
    });
  }
  if (options.routerMode === 'process') return 'process';
  const stubPath = options.stubPath ?? defaultStubPath();
  if (await stubRuns(stubPath)) return 'shared';
  if (options.routerMode === 'shared') {
    throw new FleetError(
      'INSTALL_FAILED',
      `the kernel stub at ${stubPath} is missing or does not run here, so the shared router host cannot be used; install a C compiler (gcc) and run \`npm run build\`, or install with --router-mode process`,
      { stubPath },
    );
  }
  return 'process';
}
