// This month's spend as the status bar says it ("$3.42 / $20", warning past `warnPercent`) and
// the month's dates as `sidekick/spend` takes them. Pure, for tests.

import { usd } from '../chat/usage';
import type { SpendParams, SpendResult } from '../protocol';

export interface SpendView {
  text: string;
  tooltip: string;
  /** Past the warning share of the budget (or over it). */
  warn: boolean;
  /** Nothing to show: no budget and nothing spent. */
  hidden: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');
const day = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** This calendar month so far, in local dates, as `sidekick/spend` takes them. */
export function thisMonth(now: Date): SpendParams {
  return { from: day(new Date(now.getFullYear(), now.getMonth(), 1)), to: day(now), groupBy: 'day' };
}

function whole(value: number): string {
  return Number.isInteger(value) ? `$${value}` : usd(value);
}

/** " 2 answers of unknown cost are not counted." (no price, or stopped before their usage came) */
export function uncountedNote(n: number): string {
  return n ? ` ${n} answer${n === 1 ? '' : 's'} of unknown cost (no price, or stopped before the usage came) ${n === 1 ? 'is' : 'are'} not counted.` : '';
}

export function spendView(s: SpendResult): SpendView {
  const unpriced = uncountedNote(s.unpricedCalls);
  if (s.budgetUsd === null) {
    return {
      text: `$(credit-card) ${usd(s.total)}`,
      tooltip: `Sidekick: ${usd(s.total)} of AI use this month (no budget set).${unpriced} Click for details.`,
      warn: false,
      hidden: s.total === 0 && s.unpricedCalls === 0,
    };
  }
  const share = s.budgetUsd > 0 ? (s.total / s.budgetUsd) * 100 : 100;
  const warn = share >= s.warnPercent;
  return {
    text: `$(credit-card) ${usd(s.total)} / ${whole(s.budgetUsd)}`,
    tooltip: `Sidekick: ${usd(s.total)} of your ${whole(s.budgetUsd)} monthly budget (${Math.floor(share)}%).${unpriced}${
      share >= 100 ? ' Chats are paused until the budget is raised or the month ends.' : ''
    } Click for details.`,
    warn,
    hidden: false,
  };
}
