// `@` in the prompt box offers the workspace's files: where a mention is being typed, and which
// files answer it. Pure: the webview finds the mention, the extension ranks the files.

/** A mention being typed: `@` at `start` (a line's start or after a space), `query` after it. */
export interface Mention {
  start: number;
  query: string;
}

/** Longest query looked up: a path, not a paragraph. */
export const MAX_MENTION_QUERY = 200;
/** Files offered for one query. */
export const MAX_MENTION_FILES = 20;

/**
 * The mention the caret is in, if any: `@` then no space up to the caret. An `@` inside a word
 * (`me@example.com`) is not a mention.
 */
export function mentionAt(text: string, caret: number): Mention | undefined {
  const before = text.slice(0, Math.max(0, Math.min(caret, text.length)));
  const match = /(?:^|\s)@([^\s@]*)$/.exec(before);
  if (!match) return undefined;
  const query = match[1]!;
  if (query.length > MAX_MENTION_QUERY) return undefined;
  return { start: before.length - query.length - 1, query };
}

/**
 * The text with the mention taken out, and where the caret goes: the whole word, when the
 * caret was inside it (`@hel|lo.py`), and one space after it.
 */
export function withoutMention(text: string, mention: Mention): { text: string; caret: number } {
  let end = mention.start + 1 + mention.query.length;
  while (end < text.length && !/\s/.test(text[end]!)) end += 1;
  if (text[end] === ' ') end += 1;
  return { text: text.slice(0, mention.start) + text.slice(end), caret: mention.start };
}

function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

/**
 * The files that answer `query` (case-insensitive), best first: the file name starting with it,
 * then the name containing it, then the path containing it, then the path holding its
 * characters in order (`srcmain` finds `src/chat/main.ts`); shorter paths first within a rank.
 */
export function rankFiles(paths: readonly string[], query: string, limit = MAX_MENTION_FILES): string[] {
  const q = query.toLowerCase();
  const rank = (path: string): number => {
    const p = path.toLowerCase();
    const name = baseName(p);
    if (name.startsWith(q)) return 0;
    if (name.includes(q)) return 1;
    if (p.includes(q)) return 2;
    let i = 0;
    for (const c of p) if (c === q[i]) i += 1;
    return i === q.length ? 3 : -1;
  };
  return paths
    .map((path) => ({ path, rank: rank(path) }))
    .filter((f) => f.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.path.length - b.path.length || a.path.localeCompare(b.path))
    .slice(0, limit)
    .map((f) => f.path);
}
