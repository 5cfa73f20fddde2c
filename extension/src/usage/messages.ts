// The typed messages between the extension host and the usage view (request log and spend).

import type { CallOutcome, RequestLogEntry, SpendResult } from '../protocol';

export interface LogFilter {
  provider?: string;
  model?: string;
  outcome?: CallOutcome;
}

/** Extension → usage view. */
export type ToUsage =
  | {
      type: 'data';
      byDay: SpendResult;
      byModel: SpendResult;
      entries: RequestLogEntry[];
      nextBefore: number | null;
      filter: LogFilter;
      /** Which part to scroll to: the log, or the spend. */
      section: 'log' | 'spend';
    }
  /** An older page of the log, appended. */
  | { type: 'more'; entries: RequestLogEntry[]; nextBefore: number | null }
  /** A call just recorded, shown on top when it matches the filter. */
  | { type: 'logged'; entry: RequestLogEntry }
  /** Fresh totals after new calls. */
  | { type: 'spend'; byDay: SpendResult; byModel: SpendResult }
  | { type: 'error'; message: string };

/** Usage view → extension. */
export type FromUsage =
  | { type: 'ready' }
  | { type: 'filter'; filter: LogFilter }
  | { type: 'more'; before: number }
  | { type: 'copy'; text: string };

const OUTCOMES = new Set(['ok', 'failed', 'cancelled']);

/** Validates a message from the usage view. */
export function parseFromUsage(value: unknown): FromUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'more':
      return typeof m.before === 'number' && Number.isInteger(m.before) ? { type: 'more', before: m.before } : undefined;
    case 'copy':
      return typeof m.text === 'string' && m.text.length <= 512 ? { type: 'copy', text: m.text } : undefined;
    case 'filter': {
      const f = (typeof m.filter === 'object' && m.filter !== null ? m.filter : {}) as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' && v.trim() && v.length <= 256 ? v.trim() : undefined);
      const filter: LogFilter = {};
      const provider = text(f.provider);
      const model = text(f.model);
      if (provider) filter.provider = provider;
      if (model) filter.model = model;
      if (typeof f.outcome === 'string' && OUTCOMES.has(f.outcome)) filter.outcome = f.outcome as CallOutcome;
      return { type: 'filter', filter };
    }
    default:
      return undefined;
  }
}

/** As the sidecar's `model` filter reads: the model itself or a dated version of it. */
function modelMatches(model: string | null, wanted: string): boolean {
  return model === wanted || (model !== null && model.startsWith(`${wanted}-`) && /^[0-9]/.test(model.slice(wanted.length + 1)));
}

/** Whether a live entry belongs in the filtered log. */
export function matchesFilter(e: RequestLogEntry, f: LogFilter): boolean {
  return (!f.provider || e.provider === f.provider) && (!f.model || modelMatches(e.model, f.model)) && (!f.outcome || e.outcome === f.outcome);
}
