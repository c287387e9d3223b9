// Types for bundle.mjs, so TypeScript tests can import it under strict mode.
export interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
export interface Metafile {
  inputs: Record<string, { format?: 'cjs' | 'esm' }>;
}
export declare const BUNDLED_PACKAGES: readonly string[];
export declare const BUNDLE_DIR: string;
export declare const BUNDLE_ENTRY: string;
export declare function externalPackages(manifest: Manifest, bundled?: readonly string[]): string[];
export declare function commonJsInputs(metafile: Metafile): string[];
export declare function bundle(options: { root: string; entry?: string; outdir?: string; external?: string[] }): Promise<{ outdir: string; files: string[] }>;
