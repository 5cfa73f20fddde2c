// The line under an answer: tokens in and out, and what it cost (or that its model has no
// price), with the prices used in the hover. Pure: the webview and the tests both use it.

import type { Usage } from '../protocol';

/** "$0.0042", "$1.25", "<$0.0001": four significant places under a cent. */
export function usd(value: number): string {
  if (value === 0) return '$0';
  if (value < 0.0001) return '<$0.0001';
  if (value < 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(2)}`;
}

const count = (n: number) => n.toLocaleString('en-US');

export interface UsageLine {
  text: string;
  /** The hover: the prices used, or why there is no cost. */
  title: string;
}

export function usageLine(u: Usage | null | undefined): UsageLine | undefined {
  if (!u) return undefined;
  const parts = [`${count(u.promptTokens)} in`, `${count(u.completionTokens)} out`];
  if (u.cachedInputTokens) parts[0] += ` (${count(u.cachedInputTokens)} cached)`;
  if (u.reasoningTokens) parts[1] += ` (${count(u.reasoningTokens)} reasoning)`;
  if (typeof u.costUsd === 'number') {
    const p = u.price;
    const title = p
      ? `Priced at $${p.inputPerMtok} per million input tokens and $${p.outputPerMtok} per million output tokens.`
      : 'Priced from the price table.';
    return { text: `${parts.join(' · ')} · ${usd(u.costUsd)}`, title };
  }
  return {
    text: `${parts.join(' · ')} · unpriced`,
    title: 'No price is known for this model: add it to prices.json (Settings → Sidekick → Prices) to count it.',
  };
}
