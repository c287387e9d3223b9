import { describe, expect, it } from 'vitest';
import { formatTable } from '../../../src/shared/table.js';

describe('formatTable', () => {
  it('pads columns to the widest cell, two spaces apart, no trailing spaces', () => {
    expect(formatTable(['ID', 'PID', 'STATE'], [['lua-openai-1', '12', 'ready'], ['py-x', '12345', '']])).toBe(
      'ID            PID    STATE\n' + 'lua-openai-1  12     ready\n' + 'py-x          12345\n',
    );
  });

  it('prints only the header when there are no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B\n');
  });

  it('pads short rows with empty cells instead of shifting columns', () => {
    expect(formatTable(['A', 'B', 'C'], [['x']])).toBe('A  B  C\nx\n');
  });
});
