// Small helpers over code-server's workbench DOM (VS Code 1.96), found by reading the DOM of a
// running code-server: the command palette and every QuickPick/InputBox is `.quick-input-widget`,
// notifications are `.notification-toast`s, the status bar items are `.statusbar-item`s with the
// entry id as element id, modal dialogs are `.monaco-dialog-box`. Webviews are two nested
// iframes: `iframe.webview` (the host, src …/webview/…/index.html?…&extensionId=…) and inside
// it `iframe#active-frame` (the content).

const T = { short: 10_000, medium: 20_000, long: 60_000 };
export const TIMEOUTS = T;

export const quickInput = (page) => page.locator('.quick-input-widget');

/** Waits for the QuickPick / InputBox whose title contains `title`. */
export async function waitQuickInput(page, title, timeout = T.medium) {
  const widget = quickInput(page);
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout });
  return widget;
}

/** Runs a command from the palette by its exact label ("Sidekick: Select Your AI"). */
export async function runCommand(page, label) {
  const widget = quickInput(page);
  const input = widget.locator('.quick-input-box input');
  // F1 pressed while a webview's iframe has the focus reaches the workbench only through the
  // webview's key forwarding, which can lose it: then the workbench gets the focus back (a
  // click on the status bar's empty space does nothing else) and F1 goes again.
  for (let tries = 1; ; tries++) {
    await page.keyboard.press('Escape'); // close whatever quick input is open
    await page.keyboard.press('F1');
    const shown = await input.waitFor({ state: 'visible', timeout: 3000 }).then(
      () => true,
      () => false,
    );
    if (shown) break;
    if (tries === 3) throw new Error('the command palette did not open');
    await page.locator('.part.statusbar').click({ position: { x: 400, y: 5 } });
  }
  await input.fill(`>${label}`);
  // The label, alone or followed by a note ("…, recently used").
  const row = widget.locator(`.monaco-list-row[aria-label="${label}"], .monaco-list-row[aria-label^="${label}, "]`);
  await row.first().waitFor({ state: 'visible', timeout: T.medium });
  await row.first().click();
}

/**
 * Clicks a row of the open QuickPick: `label` as a string must equal the row's visible label
 * (codicons render as icons, not text); as a RegExp it is tested against the row's aria-label
 * ("label, description, detail", codicons spelled out by name).
 */
export async function pick(page, { title, label, timeout = T.medium }) {
  const widget = title ? await waitQuickInput(page, title, timeout) : quickInput(page);
  const rows = widget.locator('.quick-input-list .monaco-list-row');
  const deadline = Date.now() + timeout;
  for (;;) {
    const n = await rows.count();
    const seen = [];
    for (let i = 0; i < n; i++) {
      const row = rows.nth(i);
      const aria = (await row.getAttribute('aria-label').catch(() => null)) ?? '';
      const text = ((await row.locator('.label-name').first().innerText().catch(() => '')) ?? '').trim();
      seen.push(aria);
      if (typeof label === 'string' ? text === label : label.test(aria)) {
        await row.click();
        return;
      }
    }
    if (Date.now() > deadline) throw new Error(`no QuickPick row matching ${label}; rows: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The aria-labels of the open QuickPick's rows (what a person sees, one string a row). */
export async function rowLabels(page) {
  const rows = quickInput(page).locator('.quick-input-list .monaco-list-row');
  const out = [];
  for (let i = 0, n = await rows.count(); i < n; i++) out.push((await rows.nth(i).getAttribute('aria-label')) ?? '');
  return out;
}

/** Types `text` into the InputBox titled `title` and presses Enter. */
export async function answerInput(page, title, text) {
  const widget = await waitQuickInput(page, title);
  const input = widget.locator('.quick-input-box input');
  await input.fill(text);
  await input.press('Enter');
}

/** The visible notification toast whose message matches `text`. */
export function toast(page, text) {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text });
}

/** Text of a status bar item (by entry id), '' when absent. */
export function statusItem(page, id) {
  return page.locator(`.statusbar-item[id="${id}"]`);
}

/**
 * The content frame of a webview of `extensionId`: a view in a side bar (`purpose=webviewView`
 * in its src), or with `view: false` a panel in the editor area (no purpose).
 */
export function webview(page, extensionId, { view = true } = {}) {
  const host = `iframe.webview[src*="extensionId=${extensionId}"]`;
  const which = view ? `${host}[src*="purpose=webviewView"]` : `${host}:not([src*="purpose="])`;
  return page.frameLocator(which).frameLocator('iframe#active-frame');
}

/** The open text editor's visible text (Monaco renders spaces as U+00A0). */
export async function editorText(page) {
  const lines = page.locator('.editor-instance .monaco-editor .view-lines').first();
  return ((await lines.innerText()) ?? '').replace(/\u00a0/g, ' ');
}
