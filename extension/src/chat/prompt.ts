// Code from answers going into the editor: the text to insert and the language of a new
// document. Pure.

/**
 * The text to insert for a code block: a block that would run into code after the cursor gets
 * a line break of its own, so `print(x)` does not fuse with what was already on the line.
 */
export function insertionText(code: string, restOfLine: string): string {
  const block = code.replace(/\n+$/, '');
  return restOfLine.trim() === '' ? block : `${block}\n`;
}

/** Fence names that are not VS Code language ids, and the id they mean. */
const FENCE_ALIASES: Record<string, string> = {
  js: 'javascript',
  jsx: 'javascriptreact',
  ts: 'typescript',
  tsx: 'typescriptreact',
  py: 'python',
  python3: 'python',
  sh: 'shellscript',
  bash: 'shellscript',
  zsh: 'shellscript',
  shell: 'shellscript',
  console: 'shellscript',
  rs: 'rust',
  rb: 'ruby',
  yml: 'yaml',
  md: 'markdown',
  'c++': 'cpp',
  cc: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  'c#': 'csharp',
  golang: 'go',
  kt: 'kotlin',
  ps1: 'powershell',
  pwsh: 'powershell',
  dockerfile: 'dockerfile',
  docker: 'dockerfile',
  html: 'html',
  xml: 'xml',
  text: 'plaintext',
  txt: 'plaintext',
  plain: 'plaintext',
};

/**
 * The VS Code language id for a code fence's language (`ts` → `typescript`), if `known` (the
 * editor's languages) has it; `plaintext` otherwise. Pure: the caller passes the known ids.
 */
export function languageForFence(fence: string | undefined, known: readonly string[]): string {
  const name = (fence ?? '').trim().toLowerCase();
  if (!name) return 'plaintext';
  const id = FENCE_ALIASES[name] ?? name;
  return known.includes(id) ? id : 'plaintext';
}
