#!/usr/bin/env node
/**
 * The bundled CLI entry, dist/bundle/main.js and its chunks, built from tsc's output by
 * `npm run build` right after tsc. The router kernelspec runs it (src/kernelspec/paths.ts): a
 * router whose backend already runs spent most of its start-up in Node's ES module loader, one
 * file at a time (issue #12 item 1, README "Light routers"), and a few chunks load in a fraction
 * of that. Code splitting keeps what the CLI imports lazily (each command, the manager, the
 * adapter) in chunks of its own, loaded only when run.
 *
 * Bundled: our modules and the pure ES module packages (valibot, smol-toml), where the loader's
 * per-module cost was. Left to node_modules: every other runtime dependency. zeromq is a native
 * addon; pino, commander and prom-client are CommonJS (we load the first two with require, as
 * unbundled; esbuild's ESM output cannot require Node's built-ins from bundled CommonJS), and
 * pino's transports and the optional packages (kubernetes, wasmoon, tslab) need their own files.
 * A CommonJS input that slips into the bundle fails the build rather than the router at run time.
 */
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Packages compiled into the bundle: ES modules only (see above). */
export const BUNDLED_PACKAGES = ['valibot', 'smol-toml'];
export const BUNDLE_DIR = join('dist', 'bundle');
export const BUNDLE_ENTRY = join('dist', 'src', 'cli', 'main.js');

/** Pure: the package.json dependencies (and optional ones) that stay external, for esbuild's `external`. */
export function externalPackages(manifest, bundled = BUNDLED_PACKAGES) {
  const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
  return names.filter((name) => !bundled.includes(name)).sort();
}

/** Pure: the bundled inputs esbuild read as CommonJS (from its metafile); the bundle must have none. */
export function commonJsInputs(metafile) {
  return Object.entries(metafile.inputs)
    .filter(([, input]) => input.format === 'cjs')
    .map(([path]) => path)
    .sort();
}

/**
 * Builds the bundle of `entry` into `outdir` (both relative to `root`), after emptying `outdir`
 * so no chunk of an earlier build is left beside the new ones. Rejects when esbuild fails or a
 * CommonJS input was bundled.
 */
export async function bundle({ root, entry = BUNDLE_ENTRY, outdir = BUNDLE_DIR, external } = {}) {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const out = resolve(root, outdir);
  rmSync(out, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: external ?? externalPackages(manifest),
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  const commonJs = commonJsInputs(result.metafile);
  if (commonJs.length > 0) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(
      `CommonJS bundled into ${outdir}, which fails when the router loads it: ${commonJs.join(', ')}; add its package to the external ones (keep it out of BUNDLED_PACKAGES in scripts/bundle.mjs)`,
    );
  }
  return { outdir: out, files: Object.keys(result.metafile.outputs).map((file) => relative(out, resolve(root, file))).sort() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    await bundle({ root });
  } catch (error) {
    // esbuild's own error lists each failure with its file and line; say which step failed too.
    process.stderr.write(`scripts/bundle.mjs: bundling ${BUNDLE_ENTRY} into ${BUNDLE_DIR} failed; the router kernelspec runs that bundle, so the build fails with it:\n${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
