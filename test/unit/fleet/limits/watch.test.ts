import { describe, expect, it } from 'vitest';
import { memoryWarning, memoryWarningText } from '../../../../src/fleet/limits/watch.js';
import type { BackendLimits } from '../../../../src/fleet/types.js';

describe('memoryWarning: once per climb past the threshold', () => {
  const limits: BackendLimits = { memory_mb: 200 };
  it.each<[string, number | undefined, BackendLimits, boolean, { warn: boolean; armed: boolean }]>([
    ['below the default 90 %', 85, limits, true, { warn: false, armed: true }],
    ['at 90 %: warn and disarm', 90, limits, true, { warn: true, armed: false }],
    ['still above: no second warning', 99, limits, false, { warn: false, armed: false }],
    ['a little below: still disarmed', 85, limits, false, { warn: false, armed: false }],
    ['well below (10 points): armed again', 79, limits, false, { warn: false, armed: true }],
    ['memory_warn_percent moves the threshold', 75, { memory_mb: 200, memory_warn_percent: 75 }, true, { warn: true, armed: false }],
    ['no reading', undefined, limits, true, { warn: false, armed: true }],
  ])('%s', (_, percent, l, armed, expected) => {
    expect(memoryWarning(percent, l, armed)).toEqual(expected);
  });

  it('says how much of the limit is used and what to do', () => {
    expect(memoryWarningText({ memory_mb: 200 }, 185 * 1024 * 1024)).toBe(
      'this backend uses 185 MB of its 200 MB memory limit; at the limit it is killed and its state is lost. Save your work or interrupt the cell.',
    );
  });
});
