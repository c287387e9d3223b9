/**
 * Writing a kernelspec's files (kernel.json and the logos) into a fresh folder beside its
 * target, so that install.ts moves a complete kernelspec into place with one rename and a
 * failure half-way leaves nothing Jupyter would list.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type KernelSpecJson, LOGO_FILES } from './spec.js';

/** The PNGs are what notebook front ends show; the SVG is a nicety and may be absent. */
const REQUIRED_LOGOS: ReadonlySet<string> = new Set(['logo-32x32.png', 'logo-64x64.png']);

/** Writes kernel.json and the logos into a fresh folder next to the target, for a rename into place. */
export async function stage(options: { dataDir: string; name: string; spec: KernelSpecJson; resourcesDir: string }): Promise<string> {
  const staging = path.join(options.dataDir, `.${options.name}.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(options.dataDir, { recursive: true });
  await mkdir(staging);
  try {
    // Readable by everyone on purpose: Jupyter reads it, maybe as another user, and it holds no secret.
    const specFile = path.join(staging, 'kernel.json');
    await writeFile(specFile, `${JSON.stringify(options.spec, null, 2)}\n`);
    await chmod(specFile, 0o644); // explicit: a strict umask would otherwise hide it from other users
    for (const logo of LOGO_FILES) {
      try {
        await copyFile(path.join(options.resourcesDir, logo), path.join(staging, logo));
      } catch (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        if (!missing || REQUIRED_LOGOS.has(logo)) throw error;
      }
    }
    return staging;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}