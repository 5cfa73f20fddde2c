// The chat webview's HTML shell and its Content-Security-Policy. Pure (no `vscode`), so the
// Chromium tests load the bundled script under exactly the policy the extension uses.

export interface HtmlParts {
  /** `webview.cspSource`: where the script and stylesheet come from. */
  cspSource: string;
  /** A fresh random nonce per render; the only script allowed to run carries it. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

/**
 * No remote anything: scripts only with the nonce, styles and images only from the extension
 * (plus `data:` images), no inline styles, no frames, no forms, no connections.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function webviewHtml(parts: HtmlParts): string {
  const csp = contentSecurityPolicy(parts.cspSource, parts.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(parts.styleUri)}">
<title>Sidekick</title>
</head>
<body>
<div id="app"></div>
<script nonce="${attr(parts.nonce)}" src="${attr(parts.scriptUri)}"></script>
</body>
</html>`;
}

/** 32 random characters from [A-Za-z0-9]. `random` is injected (crypto in the extension). */
export function makeNonce(randomBytes: (n: number) => Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(32), (b) => alphabet[b % alphabet.length]).join('');
}
