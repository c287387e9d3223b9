/**
 * doctor's lines for container backends: which engine is found (podman first, as "auto" picks),
 * and for each runtime with launcher = "container", whether its engine and image are there.
 * Nothing is pulled or started.
 */
import { findEngine, runEngine, type EngineChoice } from '../fleet/launchers/engine.js';
import type { FleetConfig } from '../fleet/types.js';
import type { Check } from './doctor-checks.js';

export async function containerChecks(config: FleetConfig, pathValue: string | undefined): Promise<Check[]> {
  const wanted = Object.entries(config.runtimes).filter(([, rt]) => rt.launcher === 'container');
  const auto = await findEngine('auto', pathValue);
  const checks: Check[] = [];
  if (auto === undefined) {
    checks.push(
      wanted.length === 0
        ? { name: 'container engine', status: 'OK', detail: 'none found (podman or docker; needed only for launcher = "container")' }
        : { name: 'container engine', status: 'FAIL', detail: 'neither podman nor docker is on PATH', fix: 'install podman (or docker) for the runtimes with launcher = "container"' },
    );
    if (wanted.length === 0) return checks;
  } else {
    const version = await runEngine(auto.engine, ['--version'], 10_000);
    checks.push({ name: 'container engine', status: 'OK', detail: `${auto.engine} at ${auto.path}${version.code === 0 ? ` (${version.stdout.trim()})` : ''}` });
  }
  for (const [name, rt] of wanted) {
    const choice: EngineChoice = rt.container_engine ?? 'auto';
    const found = await findEngine(choice, pathValue);
    const check = `runtime ${name} image`;
    if (found === undefined) {
      checks.push({ name: check, status: 'FAIL', detail: `container_engine = "${choice}" but it is not on PATH`, fix: `install it or change runtimes.${name}.container_engine` });
      continue;
    }
    const image = rt.image as string;
    const inspected = await runEngine(found.engine, ['image', 'inspect', '--format', '{{.Id}}', image], 10_000);
    checks.push(
      inspected.code === 0
        ? { name: check, status: 'OK', detail: `${image} (${found.engine})` }
        : { name: check, status: 'FAIL', detail: `${found.engine} has no image ${image}`, fix: `build or pull it (${found.engine} pull ${image}), or fix runtimes.${name}.image` },
    );
  }
  return checks;
}
