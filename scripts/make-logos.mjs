#!/usr/bin/env node
/**
 * Generates kernelspec/logo-32x32.png, logo-64x64.png and logo-svg.svg from geometry, so the
 * logos are reproducible without image tools: `node scripts/make-logos.mjs [outDir]`.
 *
 * Design: a deep purple rounded square, a light "λ" (Lua + lambda) and a gold four-pointed
 * spell sparkle. Shapes are described once in unit coordinates and used by both the raster
 * and the SVG, so the two cannot drift apart.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';

export const BACKGROUND = [0x2b, 0x1d, 0x5c];
export const GLYPH = [0xf4, 0xf0, 0xff];
export const SPARKLE = [0xff, 0xc8, 0x57];

const CORNER_RADIUS = 0.2;
const STROKE_WIDTH = 0.1;
/** The λ: a long stroke top-left → bottom-right and a short leg from its middle to bottom-left. */
const LONG_STROKE = [
  [0.3, 0.2],
  [0.66, 0.82],
];
const SHORT_LEG = [
  [0.48, 0.51],
  [0.27, 0.82],
];
/** Sparkle: the curve |x|^0.5 + |y|^0.5 = r^0.5 gives four sharp points. */
const SPARKLE_CENTRE = [0.76, 0.26];
const SPARKLE_RADIUS = 0.13;
/** Samples per pixel side for anti-aliasing; fixed so output is deterministic. */
const SUPERSAMPLE = 4;

function insideRoundedSquare(x, y) {
  const r = CORNER_RADIUS;
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r && x >= 0 && x <= 1 && y >= 0 && y <= 1;
}

function distanceToSegment(x, y, [[ax, ay], [bx, by]]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.min(Math.max(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0), 1);
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

function insideGlyph(x, y) {
  const half = STROKE_WIDTH / 2;
  return distanceToSegment(x, y, LONG_STROKE) <= half || distanceToSegment(x, y, SHORT_LEG) <= half;
}

function insideSparkle(x, y) {
  const dx = Math.abs(x - SPARKLE_CENTRE[0]);
  const dy = Math.abs(y - SPARKLE_CENTRE[1]);
  return Math.sqrt(dx) + Math.sqrt(dy) <= Math.sqrt(SPARKLE_RADIUS);
}

/** Raw RGBA scanlines, each prefixed with PNG filter type 0 (None): exactly what IDAT compresses. */
export function renderLogoScanlines(size) {
  const stride = size * 4 + 1;
  const out = Buffer.alloc(stride * size);
  const samples = SUPERSAMPLE * SUPERSAMPLE;
  for (let py = 0; py < size; py++) {
    out[py * stride] = 0;
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let glyph = 0;
      let sparkle = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = (px + (sx + 0.5) / SUPERSAMPLE) / size;
          const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
          if (!insideRoundedSquare(x, y)) continue;
          bg++;
          if (insideGlyph(x, y)) glyph++;
          else if (insideSparkle(x, y)) sparkle++;
        }
      }
      const o = py * stride + 1 + px * 4;
      // Colour is the coverage-weighted mix inside the square; alpha is the square's coverage.
      for (let c = 0; c < 3; c++) {
        const sum = BACKGROUND[c] * (bg - glyph - sparkle) + GLYPH[c] * glyph + SPARKLE[c] * sparkle;
        out[o + c] = bg === 0 ? 0 : Math.round(sum / bg);
      }
      out[o + 3] = Math.round((255 * bg) / samples);
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A minimal PNG: 8-bit RGBA, no interlace, one IDAT. */
export function renderLogoPng(size) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering (we only use filter 0)
  ihdr[12] = 0; // no interlace
  const idat = deflateSync(renderLogoScanlines(size), { level: 9 });
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

const hex = (rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
const n = (v) => Number((v * 64).toFixed(3));

function sparklePath() {
  // Sample the same curve the raster uses, in polar steps, so the SVG matches the PNGs.
  const [cx, cy] = SPARKLE_CENTRE;
  const points = [];
  const steps = 64;
  for (let i = 0; i < steps; i++) {
    const a = (2 * Math.PI * i) / steps;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    // Solve sqrt(r|cos|) + sqrt(r|sin|) = sqrt(R) for r.
    const r = SPARKLE_RADIUS / (Math.sqrt(Math.abs(cos)) + Math.sqrt(Math.abs(sin))) ** 2;
    points.push(`${n(cx + r * cos)},${n(cy + r * sin)}`);
  }
  return `M${points.join('L')}Z`;
}

export function renderLogoSvg() {
  const line = ([[x1, y1], [x2, y2]]) =>
    `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}"/>`;
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">',
    `  <rect width="64" height="64" rx="${n(CORNER_RADIUS)}" fill="${hex(BACKGROUND)}"/>`,
    `  <path d="${sparklePath()}" fill="${hex(SPARKLE)}"/>`,
    `  <g stroke="${hex(GLYPH)}" stroke-width="${n(STROKE_WIDTH)}" stroke-linecap="round">`,
    `    ${line(LONG_STROKE)}`,
    `    ${line(SHORT_LEG)}`,
    '  </g>',
    '</svg>',
    '',
  ].join('\n');
}

export function writeLogos(outDir) {
  mkdirSync(outDir, { recursive: true });
  const written = [];
  for (const size of [32, 64]) {
    const file = join(outDir, `logo-${size}x${size}.png`);
    writeFileSync(file, renderLogoPng(size));
    written.push(file);
  }
  const svg = join(outDir, 'logo-svg.svg');
  writeFileSync(svg, renderLogoSvg());
  written.push(svg);
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const defaultDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'kernelspec');
  for (const file of writeLogos(resolve(process.argv[2] ?? defaultDir))) console.log(`wrote ${file}`);
}
