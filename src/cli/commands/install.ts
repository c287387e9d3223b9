import type { Command } from 'commander';
import { installKernelSpec, type RouterMode } from '../../kernelspec/install.js';
import { LLMSPELL_DISPLAY_NAME, LLMSPELL_KERNEL_NAME, llmspellKernelFromFlags } from '../../kernelspec/llmspell-spec.js';
import { resolveScope } from '../../kernelspec/paths.js';
import { DEFAULT_DISPLAY_NAME, DEFAULT_KERNEL_NAME } from '../../kernelspec/spec.js';
import { reportFailure } from './kernelspec-report.js';

interface InstallFlags {
  user?: boolean;
  prefix?: string;
  sysPrefix?: boolean;
  name?: string;
  displayName?: string;
  runtime?: string;
  provider?: string;
  llmspell?: boolean;
  llmspellProfile?: string;
  llmspellConfig?: string;
  routerMode?: string;
}

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description(
      'install the Jupyter kernelspec that runs this router (or, with --llmspell, one that runs llmspell alone behind the adapter): writes <data dir>/kernels/<name>/kernel.json and the logos, replacing an earlier llmspell-fleet install of the same name',
    )
    .option('--user', 'install for the current user: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter ($XDG_DATA_HOME respected) (the default)')
    .option('--prefix <dir>', 'install into <dir>/share/jupyter; Jupyter finds it if <dir> is its environment prefix or <dir>/share/jupyter is on $JUPYTER_PATH')
    .option('--sys-prefix', "install into <env>/share/jupyter of the active Python environment (<env> is $VIRTUAL_ENV, else python3's sys.prefix)")
    .option('--name <name>', `kernelspec name: letters, digits, . _ - (lowercased, as Jupyter does) (default: "${DEFAULT_KERNEL_NAME}", or "${DEFAULT_KERNEL_NAME}-<runtime>-<provider>" with --runtime/--provider, or "${LLMSPELL_KERNEL_NAME}" with --llmspell)`)
    .option('--display-name <text>', `name shown in notebook front ends (default: "${DEFAULT_DISPLAY_NAME}", or "${DEFAULT_DISPLAY_NAME} (<runtime>, <provider>)", or "${LLMSPELL_DISPLAY_NAME}" with --llmspell)`)
    .option('--runtime <name>', 'make an alias kernelspec that always asks for this backend runtime (passed to the router as --runtime)')
    .option('--provider <name>', 'make an alias kernelspec that always asks for this LLM provider (passed to the router as --provider)')
    .option('--router-mode <mode>', 'shared: a 1 MB kernel stub per notebook hands it to one per-user router host (the default when the stub was built); process: each notebook runs its own Node router (about 57 MB)')
    .option('--llmspell', 'install the plain "LLMSpell (Lua)" kernelspec instead: each kernel is one llmspell (found on PATH when the kernel starts) behind the adapter, without the fleet')
    .option('--llmspell-profile <name>', 'with --llmspell: start llmspell with this built-in profile (llmspell --profile NAME)')
    .option('--llmspell-config <file>', 'with --llmspell: start llmspell with this config file (llmspell --config FILE; stored as an absolute path)')
    .action(async (flags: InstallFlags) => {
      try {
        const result = await installKernelSpec({
          scope: resolveScope(flags),
          name: flags.name,
          displayName: flags.displayName,
          runtime: flags.runtime,
          provider: flags.provider,
          llmspell: llmspellKernelFromFlags(flags),
          routerMode: flags.routerMode as RouterMode | undefined,
        });
        process.stdout.write(`Installed kernelspec ${result.name} in ${result.kernelDir}${routerNote(result.routerMode)}\n`);
      } catch (error) {
        reportFailure(error);
      }
    });
}

function routerNote(mode: RouterMode | undefined): string {
  if (mode === 'shared') return ' (router: the shared router host, through the kernel stub)';
  if (mode === 'process') return ' (router: one Node process per notebook)';
  return '';
}
