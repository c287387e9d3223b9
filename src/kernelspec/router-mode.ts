/**
 * How a router kernelspec runs its router, chosen at install: through the kernel stub and one
 * per-user router host, or one Node router per notebook. Apart from install.ts because the
 * choice depends on what was built (the stub), not on where the kernelspec goes.
 */
import { access, constants } from 'node:fs/promises';
import { FleetError } from '../shared/errors.js';
import { defaultStubPath } from './paths.js';

/**
 * shared: the kernel stub hands every notebook to one per-user router host (about 1 MB per
 * notebook); process: each notebook runs its own Node router (about 57 MB), as before the host.
 */
export type RouterMode = 'shared' | 'process';
export const ROUTER_MODES: readonly RouterMode[] = ['shared', 'process'];

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
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
  if (await isExecutable(stubPath)) return 'shared';
  if (options.routerMode === 'shared') {
    throw new FleetError(
      'INSTALL_FAILED',
      `the kernel stub is missing at ${stubPath}, so the shared router host cannot be used; install a C compiler (gcc) and run \`npm run build\`, or install with --router-mode process`,
      { stubPath },
    );
  }
  return 'process';
}
