import type { Command } from 'commander';
import { uninstallKernelSpec } from '../../kernelspec/install.js';
import { LLMSPELL_KERNEL_NAME, llmspellKernelFromFlags } from '../../kernelspec/llmspell-spec.js';
import { resolveScope } from '../../kernelspec/paths.js';
import { DEFAULT_KERNEL_NAME } from '../../kernelspec/spec.js';
import { reportFailure } from './kernelspec-report.js';

interface UninstallFlags {
  user?: boolean;
  prefix?: string;
  sysPrefix?: boolean;
  name?: string;
  runtime?: string;
  provider?: string;
  llmspell?: boolean;
}

export function registerUninstall(program: Command): void {
  program
    .command('uninstall')
    .description(
      'remove a kernelspec installed by `llmspell-fleet install`; pass the same location flags and --name (or --runtime/--provider) as at install. Kernelspecs not written by llmspell-fleet are left alone',
    )
    .option('--user', "remove from the current user's Jupyter data dir (the default)")
    .option('--prefix <dir>', 'remove from <dir>/share/jupyter')
    .option('--sys-prefix', 'remove from the active Python environment ($VIRTUAL_ENV, else python3\'s sys.prefix)')
    .option('--name <name>', `kernelspec name (default: "${DEFAULT_KERNEL_NAME}", or "${DEFAULT_KERNEL_NAME}-<runtime>-<provider>" with --runtime/--provider, or "${LLMSPELL_KERNEL_NAME}" with --llmspell)`)
    .option('--runtime <name>', 'remove the alias kernelspec made with this --runtime')
    .option('--provider <name>', 'remove the alias kernelspec made with this --provider')
    .option('--llmspell', 'remove the plain llmspell kernelspec made with install --llmspell')
    .action(async (flags: UninstallFlags) => {
      try {
        const result = await uninstallKernelSpec({
          scope: resolveScope(flags),
          name: flags.name,
          runtime: flags.runtime,
          provider: flags.provider,
          llmspell: llmspellKernelFromFlags(flags),
        });
        process.stdout.write(`Removed kernelspec ${result.name} from ${result.kernelDir}\n`);
      } catch (error) {
        reportFailure(error);
      }
    });
}
