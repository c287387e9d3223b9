#!/usr/bin/env node
import { restoreExtraCaCerts } from '../shared/extra-ca-certs.js';
import { startupMark } from '../shared/startup-trace.js';
import { onlyVersion } from './command-line.js';

startupMark('cli');
// Our kernel.json starts the router without the CA bundle (shared/extra-ca-certs.ts): back before anything is spawned.
restoreExtraCaCerts(process.env);

const args = process.argv.slice(2);

// What commander's --version prints, without loading commander (a quarter of this line's time).
if (onlyVersion(args)) {
  const { VERSION } = await import('../shared/package.js');
  process.stdout.write(`${VERSION}\n`);
} else {
  await runCommand();
}

async function runCommand(): Promise<void> {
  // Before commander and the command's modules load: a router (or the router host a kernel stub
  // starts) that finds no fleet manager starts it now, so the manager comes up while the router loads (issue #12 item 3).
  if (args[0] === 'router' || args[0] === 'router-host') await (await import('./early-manager.js')).startManagerIfRouter(args, process.env);
  const [{ CommanderError, createProgram }, { topLevelErrorText }] = await Promise.all([import('./program.js'), import('./top-error.js')]);

  const program = await createProgram(process.argv);

  program.parseAsync(process.argv).catch((error: unknown) => {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(topLevelErrorText(error));
    process.exitCode = 1;
  });
}
