// The typed messages between the extension host and the Usage and Costs view, and the checks
// on what the view sends (a webview is another process: its messages are validated like input).

import type { ActionTarget, GuidanceCard } from '../guidance';
import type { CostsGroupBy, OrgCostsResult, OrgSyncParams, OrgUsageResult } from '../protocol';

/** What the view asks for: a range of UTC days, the grouping and the filters. */
export interface CostsQuery {
  from: string;
  to: string;
  groupBy: CostsGroupBy;
  projectIds: string[];
  lineItems: string[];
  models: string[];
  refresh: boolean;
}

/** Extension → view. */
export type ToCosts =
  | { type: 'state'; supported: boolean; adminConnected: boolean; keyHint: string | null }
  | { type: 'loading'; query: CostsQuery }
  | { type: 'data'; query: CostsQuery; costs: OrgCostsResult; usage: OrgUsageResult }
  | { type: 'progress'; progress: OrgSyncParams }
  | { type: 'error'; card: GuidanceCard }
  | { type: 'cancelled' };

/** View → extension. */
export type FromCosts =
  | { type: 'ready' }
  | { type: 'query'; query: CostsQuery }
  | { type: 'cancel' }
  | { type: 'connect' }
  | { type: 'action'; action: ActionTarget }
  | { type: 'exportCsv'; csv: string; fileName: string };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_KEYS = 200;
/** A year of days × a few hundred groups is far below this. */
export const MAX_CSV_BYTES = 16 * 1024 * 1024;

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

function keys(v: unknown): string[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_KEYS) return undefined;
  return v.every((k) => typeof k === 'string' && k.length <= 256) ? (v as string[]) : undefined;
}

export function parseQuery(v: unknown): CostsQuery | undefined {
  const q = record(v);
  if (!q || typeof q.from !== 'string' || typeof q.to !== 'string') return undefined;
  if (!DATE.test(q.from) || !DATE.test(q.to)) return undefined;
  const groupBy = q.groupBy === 'lineItem' ? 'lineItem' : q.groupBy === 'project' || q.groupBy === undefined ? 'project' : undefined;
  const [projectIds, lineItems, models] = [keys(q.projectIds), keys(q.lineItems), keys(q.models)];
  if (!groupBy || !projectIds || !lineItems || !models) return undefined;
  return { from: q.from, to: q.to, groupBy, projectIds, lineItems, models, refresh: q.refresh === true };
}

/** Validates a message from the view; anything else is dropped. */
export function parseFromCosts(value: unknown): FromCosts | undefined {
  const m = record(value);
  if (!m) return undefined;
  switch (m.type) {
    case 'ready':
    case 'cancel':
    case 'connect':
      return { type: m.type };
    case 'query': {
      const query = parseQuery(m.query);
      return query ? { type: 'query', query } : undefined;
    }
    case 'action': {
      const a = record(m.action);
      if (!a || typeof a.title !== 'string') return undefined;
      if (a.type === 'url' && typeof a.url === 'string') return { type: 'action', action: { type: 'url', title: a.title, url: a.url } };
      if (a.type === 'command' && typeof a.command === 'string') {
        const args = Array.isArray(a.args) && a.args.every((x) => typeof x === 'string') ? (a.args as string[]) : undefined;
        return { type: 'action', action: { type: 'command', title: a.title, command: a.command, ...(args ? { args } : {}) } };
      }
      return undefined;
    }
    case 'exportCsv':
      return typeof m.csv === 'string' &&
        m.csv.length <= MAX_CSV_BYTES &&
        typeof m.fileName === 'string' &&
        /^[\w.-]{1,100}\.csv$/.test(m.fileName)
        ? { type: 'exportCsv', csv: m.csv, fileName: m.fileName }
        : undefined;
    default:
      return undefined;
  }
}
