// Types for make-logos.mjs, so TypeScript tests can import it under strict mode.
export declare const BACKGROUND: readonly [number, number, number];
export declare const GLYPH: readonly [number, number, number];
export declare const SPARKLE: readonly [number, number, number];
export declare const PNG_SIGNATURE: Buffer;
export declare function renderLogoScanlines(size: number): Buffer;
export declare function crc32(bytes: Uint8Array): number;
export declare function renderLogoPng(size: number): Buffer;
export declare function renderLogoSvg(): string;
export declare function writeLogos(outDir: string): string[];
