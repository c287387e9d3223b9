/**
 * Pure: the dashboard's history charts. The page keeps the last SPARK_SAMPLES readings of each
 * backend's CPU and memory and draws them as an SVG polyline it builds with DOM calls (the CSP
 * allows no inline script or style; SVG attributes are neither). These functions go into
 * /dashboard.js as their own source (see dashboard-script.ts), so the page runs what the unit
 * tests test; they must stay plain functions with no imports and no outside names.
 */

/** Readings kept per backend: two minutes at the page's 2 s poll. */
export const SPARK_SAMPLES = 60;
/** The chart's viewBox; the stylesheet sets its size on the page. */
export const SPARK_WIDTH = 60;
export const SPARK_HEIGHT = 16;

/** The history with `value` appended, at most `max` long (oldest dropped). */
export function pushSample(history: readonly number[], value: number, max: number): number[] {
  const out = history.concat([value]);
  return out.length > max ? out.slice(out.length - max) : out;
}

/**
 * polyline points for `values` in a width x height box: x spreads the samples over the
 * width as if it held `slots` of them, newest at the right edge (a young backend's line is
 * short and grows to the left),
 * y goes from 0 at the bottom to the larger of the highest value and `floor` at the top, so
 * an idle backend's 0.3% does not fill the chart. One pixel of margin keeps the line visible.
 */
export function sparkPoints(values: readonly number[], floor: number, slots: number, width: number, height: number): string {
  let top = floor;
  for (const v of values) if (v > top) top = v;
  const step = slots > 1 ? width / (slots - 1) : 0;
  const points: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(0, values[i] ?? 0);
    const x = width - (values.length - 1 - i) * step;
    const y = height - 1 - (top > 0 ? (v / top) * (height - 2) : 0);
    points.push(`${Math.round(x * 10) / 10},${Math.round(y * 10) / 10}`);
  }
  return points.join(' ');
}
