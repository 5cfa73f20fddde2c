// Export CSV of the Usage and Costs view: one row per day and group, amounts at full
// precision (the view rounds to the cent, the file does not). Pure, so it is unit-tested and
// runs in the webview.

import type { CostsGroupBy, OrgCostsResult } from '../protocol';

/** RFC 4180 quoting, and no formula a spreadsheet would run: a text cell starting with
 * `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe (OWASP's CSV injection advice). */
export function cell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A number as JavaScript prints it: shortest round-trip, no exponent for amounts. */
export function amount(n: number): string {
  if (!Number.isFinite(n)) return '';
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
}

export function costsCsv(r: OrgCostsResult, groupBy: CostsGroupBy): string {
  const group = groupBy === 'lineItem' ? 'line_item' : 'project';
  const lines = [`date,${group},amount_usd`];
  for (const day of r.days) {
    for (const g of day.groups) lines.push(`${day.date},${cell(g.key)},${amount(g.amount)}`);
  }
  return lines.join('\r\n') + '\r\n';
}
