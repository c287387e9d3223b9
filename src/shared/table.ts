/**
 * Pure: left-aligned columns separated by two spaces, no trailing spaces, a newline after each
 * row. Rows shorter than the header are padded with empty cells, so a missing value never
 * shifts the columns after it. One table look for the CLI and for `%llmspell list`.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  const lines = all.map((row) =>
    widths
      .map((width, col) => (row[col] ?? '').padEnd(width))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
