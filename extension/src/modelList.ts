// The model list as a picker shows it: which models, in which order, described by what helps
// choose (context window, price), and the word search every model picker uses. Pure.

import type { ActiveSelection, ModelInfo, ModelPrice, ProviderInfo } from './protocol';

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
  /** Shown first and highlighted (the current model). */
  picked?: boolean;
}

/**
 * The word match of pickers with `matchWords`: every typed word appears in one of `texts`,
 * in any order, case-insensitive; `-`, `_`, `.`, `/`, `:` and spaces are ignored inside a word,
 * so "gpt4o" finds `gpt-4o` too. Codicons (`$(check)`) are not text.
 */
export function matchesWords(query: string, texts: (string | undefined)[]): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const plain = texts
    .filter((t): t is string => typeof t === 'string')
    .map((t) => t.replace(/\$\([a-z0-9-]+\)/gi, '').toLowerCase());
  const squashed = plain.map((t) => t.replace(/[-_./:\s]+/g, ''));
  return words.every((w) => {
    const bare = w.replace(/[-_./:]+/g, '');
    return plain.some((t) => t.includes(w)) || (bare !== '' && squashed.some((t) => t.includes(bare)));
  });
}

/** "128k context", "1M context". */
export function contextLabel(tokens: number | null): string {
  if (tokens === null || tokens <= 0) return '';
  if (tokens >= 1_000_000) return `${+(tokens / 1_000_000).toFixed(1)}M context`;
  return `${Math.round(tokens / 1000)}k context`;
}

function dollars(n: number): string {
  if (n === 0) return '$0';
  if (n < 0.01) return `$${+n.toPrecision(2)}`;
  return `$${n < 10 ? n.toFixed(2).replace(/\.00$/, '') : Math.round(n * 10) / 10}`;
}

/** "$2.50 / $10 per M tokens" (input / output), "free", or "" when unknown. */
export function priceLabel(price: ModelPrice | null | undefined): string {
  if (!price) return '';
  if (price.inputPerMtok === 0 && price.outputPerMtok === 0) return 'free';
  return `${dollars(price.inputPerMtok)} / ${dollars(price.outputPerMtok)} per M tokens`;
}

/**
 * The model list: the current model first (else the user's default from the settings, when
 * listed, else the provider's suggestion), then the chat models in the provider's order, and
 * one "Show all models" choice for the non-chat ones (embeddings, images, audio…) unless
 * `showAll`. One pass, no sorting: OpenRouter sends 300+ models and the picker must open at
 * once. Each model is described by what helps choose (display name, context window, price),
 * never its owner.
 */
export function modelItems(
  provider: ProviderInfo,
  models: ModelInfo[],
  active: ActiveSelection | null,
  showAll = false,
  preferred?: string,
): PickItem<string>[] {
  const current = active?.provider === provider.id ? active.model : undefined;
  const favourite = !current && preferred && models.some((m) => m.id === preferred) ? preferred : undefined;
  const first: PickItem<string>[] = [];
  const rest: PickItem<string>[] = [];
  for (const m of models) {
    const isCurrent = m.id === current;
    const isFavourite = m.id === favourite;
    if (!showAll && m.chat === false && !isCurrent && !isFavourite) continue;
    const suggested = isFavourite || (!current && !favourite && m.recommended === true);
    const parts = [
      isCurrent ? 'current' : isFavourite ? 'your default' : suggested ? 'suggested' : '',
      m.name && m.name !== m.id ? m.name : '',
      contextLabel(m.contextWindow),
      priceLabel(m.price),
    ];
    (isCurrent || suggested ? first : rest).push({
      label: isCurrent ? `$(check) ${m.id}` : suggested ? `$(star-full) ${m.id}` : m.id,
      description: parts.filter(Boolean).join(' · ') || undefined,
      value: m.id,
      picked: isCurrent || suggested,
    });
  }
  return [...first, ...rest];
}

/** How many models `modelItems` keeps behind "Show all models". */
export function hiddenModels(models: ModelInfo[], active: ActiveSelection | null, provider: ProviderInfo, preferred?: string): number {
  const current = active?.provider === provider.id ? active.model : undefined;
  const favourite = current ? undefined : preferred;
  return models.filter((m) => m.chat === false && m.id !== current && m.id !== favourite).length;
}

/**
 * The `sidekick.defaultModel` setting's model for a provider: `{ "openai": "gpt-4o-mini" }`.
 * Anything else (a string, a number, an empty name) is no default.
 */
export function defaultModelFor(setting: unknown, provider: string): string | undefined {
  if (!setting || typeof setting !== 'object' || Array.isArray(setting)) return undefined;
  const model = (setting as Record<string, unknown>)[provider];
  return typeof model === 'string' && model.trim() ? model.trim() : undefined;
}
