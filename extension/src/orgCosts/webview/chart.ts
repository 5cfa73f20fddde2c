// The costs chart with uPlot (a 50 KB canvas library with no dependencies and no `eval`, so it
// runs under the webview's CSP; docs/org-costs.md says why not Chart.js): daily costs as
// stacked bars on the left scale, and on the right scale the cumulative spend, the forecast
// band to the month's end, the monthly budget and the organization's hard limit. Colours come
// from the VS Code theme, read when drawn.

import uPlot from 'uplot';
import type { OrgCostsResult } from '../../protocol';

/** Groups drawn as their own bars; the rest are one "Other" bar. */
export const MAX_STACKED = 8;

const FALLBACK = ['#3794ff', '#f14c4c', '#89d185', '#cca700', '#d18616', '#b180d7', '#4ec9b0', '#e2c08d', '#808080'];
const THEME_VARS = ['--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-orange', '--vscode-charts-purple'];

function cssVar(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}

/** The series palette and the text/grid colours of the current theme. */
export function themeColours(): { series: string[]; text: string; grid: string; budget: string; limit: string } {
  const series = FALLBACK.map((c, i) => (i < THEME_VARS.length ? cssVar(THEME_VARS[i]!) || c : c));
  return {
    series,
    text: cssVar('--vscode-foreground') || '#cccccc',
    grid: cssVar('--vscode-widget-border') || 'rgba(128,128,128,0.25)',
    budget: cssVar('--vscode-charts-orange') || '#d18616',
    limit: cssVar('--vscode-charts-red') || '#f14c4c',
  };
}

export function groupLabel(key: string, groupBy: 'project' | 'lineItem'): string {
  if (key) return key;
  return groupBy === 'project' ? '(no project)' : '(no line item)';
}

const DAY = 86_400;

function epoch(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}

export interface ChartData {
  data: uPlot.AlignedData;
  opts: Omit<uPlot.Options, 'width' | 'height'>;
}

/** The chart's data and options; pure apart from reading the theme. */
export function chartData(r: OrgCostsResult, groupBy: 'project' | 'lineItem'): ChartData {
  const colours = themeColours();
  const ranked = r.groups.map((g) => g.key);
  const shown = ranked.slice(0, MAX_STACKED);
  const other = ranked.length > MAX_STACKED;
  const stackKeys = other ? [...shown, '\u0000other'] : shown;
  const forecastDays = r.forecast ? r.forecast.days.filter((d) => d.date > r.days[r.days.length - 1]!.date) : [];
  const xs = [...r.days.map((d) => epoch(d.date)), ...forecastDays.map((d) => epoch(d.date))];
  const n = xs.length;
  // Own amounts per stack key and day; then cumulative sums for stacking.
  const own = stackKeys.map((k) =>
    r.days.map((d) => {
      if (k === '\u0000other') return d.groups.filter((g) => !shown.includes(g.key)).reduce((a, g) => a + g.amount, 0);
      return d.groups.find((g) => g.key === k)?.amount ?? 0;
    }),
  );
  const stacked: (number | null)[][] = [];
  let running = r.days.map(() => 0);
  for (const o of own) {
    running = running.map((v, i) => v + o[i]!);
    stacked.push([...running, ...forecastDays.map(() => null)]);
  }
  // Cumulative spend over the range, up to the last day with data.
  let sum = 0;
  const cumulative: (number | null)[] = r.days.map((d) => (sum += d.total));
  const today = new Date().toISOString().slice(0, 10);
  r.days.forEach((d, i) => {
    if (d.date > today) cumulative[i] = null;
  });
  const pad = (v: (number | null)[]) => [...v, ...Array(n - v.length).fill(null)];
  const series: uPlot.Series[] = [{}];
  const data: (number | null)[][] = [xs];
  // Tallest first: each later (shorter) bar is drawn over it, which reads as a stack.
  for (let i = stacked.length - 1; i >= 0; i--) {
    const key = stackKeys[i]!;
    const colour = colours.series[i % colours.series.length]!;
    const amounts = own[i]!;
    series.push({
      label: key === '\u0000other' ? 'Other' : groupLabel(key, groupBy),
      scale: 'daily',
      fill: colour,
      stroke: colour,
      width: 0,
      paths: uPlot.paths.bars!({ size: [0.7, 40], align: 0 }),
      value: (_u, _v, _s, idx) => (idx == null || idx >= amounts.length ? '—' : `$${amounts[idx]!.toFixed(2)}`),
      points: { show: false },
    });
    data.push(stacked[i]!);
  }
  const line = (label: string, values: (number | null)[], stroke: string, dash?: number[]): void => {
    series.push({ label, scale: 'cum', stroke, width: 2, dash, points: { show: false }, spanGaps: false, value: (_u, v) => (v == null ? '—' : `$${v.toFixed(2)}`) });
    data.push(values);
  };
  line('Spent (cumulative)', pad(cumulative), colours.text);
  const bands: uPlot.Band[] = [];
  if (r.forecast) {
    // The forecast is month-to-date; it continues the range's cumulative line from today.
    const todayIdx = r.days.findIndex((d) => d.date === r.forecast!.days[0]?.date);
    const base = todayIdx >= 0 ? (cumulative[todayIdx] ?? 0) - r.forecast.spentSoFar : 0;
    const at = (pick: (d: { expected: number; low: number; high: number }) => number) =>
      xs.map((x) => {
        const d = r.forecast!.days.find((f) => epoch(f.date) === x);
        return d ? pick(d) + base : null;
      });
    const bandColour = colours.series[0]!;
    line('Forecast high', at((d) => d.high), bandColour, [2, 4]);
    line('Forecast low', at((d) => d.low), bandColour, [2, 4]);
    line('Forecast', at((d) => d.expected), bandColour, [8, 4]);
    const hi = series.length - 3;
    bands.push({ series: [hi, hi + 1], fill: /^#[0-9a-f]{6}$/i.test(bandColour) ? `${bandColour}33` : "rgba(128,128,128,0.2)" });
    if (r.budgetUsd != null) line(`Budget $${r.budgetUsd.toFixed(2)}`, xs.map(() => r.budgetUsd! + base), colours.budget, [4, 4]);
    if (r.spendLimit != null) line(`Hard limit $${r.spendLimit.toFixed(2)}`, xs.map(() => r.spendLimit! + base), colours.limit, [1, 3]);
  }
  const axis = (scale: string, side?: number): uPlot.Axis => ({
    scale,
    side,
    stroke: colours.text,
    grid: { stroke: colours.grid, width: 1, show: scale !== 'cum' },
    ticks: { stroke: colours.grid, width: 1 },
    values: scale === 'x' ? undefined : (_u, vals) => vals.map((v) => `$${v >= 100 ? v.toFixed(0) : v.toFixed(2)}`),
    size: 60,
  });
  return {
    data: data as uPlot.AlignedData,
    opts: {
      series,
      bands,
      scales: { x: { time: true, range: (_u, min, max) => [min - DAY / 2, max + DAY / 2] }, daily: { range: (_u, _min, max) => [0, Math.max(max, 0.01)] }, cum: { range: (_u, _min, max) => [0, Math.max(max, 0.01) * 1.05] } },
      axes: [{ stroke: colours.text, grid: { show: false }, ticks: { stroke: colours.grid } }, axis('daily'), axis('cum', 1)],
      legend: { show: true, live: true },
      cursor: { points: { show: false } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    },
  };
}

/** Draws (or redraws) the chart into `target`, sized to it. */
export function drawChart(target: HTMLElement, r: OrgCostsResult, groupBy: 'project' | 'lineItem', previous?: uPlot): uPlot {
  previous?.destroy();
  const { data, opts } = chartData(r, groupBy);
  const width = Math.max(target.clientWidth, 320);
  return new uPlot({ ...opts, width, height: 300 }, data, target);
}
