import { readFileSync } from 'node:fs';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PNG_SIGNATURE, renderLogoScanlines, renderLogoSvg } from '../../../scripts/make-logos.mjs';

interface Chunk {
  type: string;
  data: Buffer;
}

/** A strict reader for the PNGs we ship: every chunk's CRC is checked with zlib's own crc32. */
function readChunks(png: Buffer): Chunk[] {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const chunks: Chunk[] = [];
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const typeAndData = png.subarray(offset + 4, offset + 8 + length);
    expect(png.readUInt32BE(offset + 8 + length)).toBe(crc32(typeAndData));
    chunks.push({ type: typeAndData.subarray(0, 4).toString('ascii'), data: typeAndData.subarray(4) });
    offset += 12 + length;
  }
  return chunks;
}

const logo = (file: string) => new URL(`../../../kernelspec/${file}`, import.meta.url);

describe('shipped logos', () => {
  it.each([32, 64])('logo-%ix%i.png is a valid RGBA PNG holding what make-logos draws', (size) => {
    const chunks = readChunks(readFileSync(logo(`logo-${size}x${size}.png`)));
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = chunks[0]!.data;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[12]]).toEqual([size, size, 8, 6, 0]);
    // Pixels, not bytes: another zlib build may compress the same pixels differently.
    expect(inflateSync(chunks[1]!.data).equals(renderLogoScanlines(size))).toBe(true);
  });

  it('has an opaque centre and transparent rounded corners', () => {
    const rows = renderLogoScanlines(64);
    const alpha = (x: number, y: number) => rows[y * (64 * 4 + 1) + 1 + x * 4 + 3];
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(32, 32)).toBe(255);
  });

  it('logo-svg.svg is what make-logos draws', () => {
    expect(readFileSync(logo('logo-svg.svg'), 'utf8')).toBe(renderLogoSvg());
  });
});
