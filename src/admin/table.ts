/** Plain-text tables for the operator CLI: aligned columns, numbers right-aligned. */

export type Cell = string | number | null | undefined;

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
}

const show = (c: Cell): string => {
  if (c === null || c === undefined) return '';
  if (typeof c === 'number') return c.toLocaleString('en-US');
  return c;
};

export function formatTable(columns: (Column | string)[], rows: Cell[][]): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const cells = rows.map((r) => cols.map((_, i) => show(r[i])));
  const widths = cols.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (cols[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
