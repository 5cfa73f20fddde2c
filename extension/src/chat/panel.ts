// The chat view (`sidekick.chat`): owns the conversation state (reducer in state.ts), runs chats
// through the client, and talks to the webview by typed messages. The conversation itself is
// kept by the sidecar (docs/conversations.md): the panel remembers only which one is open, and
// an older version's history in workspaceState is moved into the sidecar once.

import { randomBytes, randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { SidekickClient } from '../client';
import { cardFor, errorMessage, guidanceOf, isCancelled, isSafeUrl, plainCard } from '../guidance';
import { ErrorCode } from '../protocol';
import {
  GUIDANCE_COMMANDS,
  type ChatDeltaParams,
  type ChatStatusParams,
  type ProvidersState,
} from '../protocol';
import type { ContextItem, ConversationSummary } from '../protocolConversations';
import { MentionFiles, openEditors, pickFiles, selections } from './attach';
import { addContext, chipFor, contextKey, removeContext } from './context';
import { importable, instructionsFrom, relativeTime, storedCut, viewsFromStored } from './conversations';
import { makeNonce, webviewHtml } from './html';
import { parseFromWebview, type AttachKind, type FromWebview, type HeaderView, type ToWebview } from './messages';
import {
  editable,
  emptyState,
  parsePersisted,
  reduce,
  retryable,
  streamingChatId,
  type ChatAction,
  type ChatViewState,
  type MessageView,
} from './state';

/** Where versions before the sidecar kept conversations: read once, moved, cleared. */
const HISTORY_KEY = 'sidekick.chat.history';
/**
 * The sidecar's conversation this workspace's panel shows, in a file of the workspace's
 * storage folder: written by the extension host at once, where a workspaceState update may
 * still be in the workbench's memory when the window reloads.
 */
const OPEN_FILE = 'open-conversation.json';
/** Commands the webview may ask for (guidance buttons, the empty state). */
const WEBVIEW_COMMANDS: ReadonlySet<string> = new Set([...GUIDANCE_COMMANDS, 'sidekick.restartServer']);

export function headerFor(state: ProvidersState | undefined): HeaderView {
  const active = state?.active ?? null;
  const provider = active ? state?.providers.find((p) => p.id === active.provider) : undefined;
  return {
    connected: Boolean(active && provider?.connected),
    providerName: provider?.name ?? null,
    model: active?.model ?? null,
    active,
  };
}

export interface PanelHost {
  client: SidekickClient;
  log: vscode.LogOutputChannel;
  /** Streaming started or stopped (status bar spinner). */
  onStreaming(streaming: boolean): void;
  /**
   * Inserts text at the cursor of the last active text editor, or into a new untitled document
   * in the fence's `language` when no editor is open.
   */
  insertAtCursor(text: string, language?: string): Promise<void>;
  /** The text editor last focused: the view has the focus when its Add Selection is clicked. */
  lastEditor(): vscode.TextEditor | undefined;
}

export class ChatPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'sidekick.chat';

  private view: vscode.WebviewView | undefined;
  private ready = false;
  private state: ChatViewState;
  private header: HeaderView = headerFor(undefined);
  private readonly running = new Map<string, vscode.CancellationTokenSource>();
  private pendingFocus = false;
  private conversationId: string | undefined;
  /** Whether the open conversation's id was read from disk (or set since). */
  private openRead = false;
  private synced: Promise<void> | undefined;
  /** Files and selections for the next question, and their counted tokens by key. */
  private attached: ContextItem[] = [];
  private readonly chipTokens = new Map<string, number>();
  /** The question being typed, for a fill recounted when the attachments change. */
  private draft = '';
  /** The conversation list as last shown in the view (rename and delete name its rows). */
  private listed: ConversationSummary[] = [];
  private listQuery = '';
  private redoing = false;
  private readonly mentionFiles = new MentionFiles();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: PanelHost,
  ) {
    // An older version's history shows at once; the sidecar's copy replaces it when loaded.
    this.state = reduce(emptyState, {
      type: 'restored',
      messages: parsePersisted(context.workspaceState.get(HISTORY_KEY)),
    });
  }

  private async setConversation(id: string | undefined): Promise<void> {
    this.conversationId = id;
    this.openRead = true;
    const dir = this.context.storageUri ?? this.context.globalStorageUri;
    try {
      await vscode.workspace.fs.createDirectory(dir);
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(dir, OPEN_FILE), new TextEncoder().encode(JSON.stringify({ id: id ?? null })));
    } catch (err) {
      this.host.log.warn(`Could not remember the open conversation: ${errorMessage(err)}`);
    }
  }

  private async readOpen(): Promise<string | undefined> {
    const dir = this.context.storageUri ?? this.context.globalStorageUri;
    try {
      const raw: unknown = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, OPEN_FILE))));
      const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
      return typeof id === 'string' && /^[\w-]{1,64}$/.test(id) ? id : undefined;
    } catch {
      return undefined; // never written: no conversation open yet
    }
  }

  /** Loads the open conversation from the sidecar (once per window; again on `force`). */
  sync(force = false): Promise<void> {
    if (!this.synced || force) this.synced = this.load();
    return this.synced;
  }

  private async load(): Promise<void> {
    try {
      if (!this.openRead) {
        this.conversationId = await this.readOpen();
        this.openRead = true;
      }
      const legacy = parsePersisted(this.context.workspaceState.get(HISTORY_KEY));
      if (!this.conversationId && legacy.length > 0) {
        const { id } = await this.host.client.createConversation({ messages: importable(legacy) });
        await this.setConversation(id);
        await this.context.workspaceState.update(HISTORY_KEY, undefined);
        this.host.log.info(`Moved ${legacy.length} messages of this workspace's chat into the Sidekick server`);
      }
      if (!this.conversationId || streamingChatId(this.state) !== undefined) return;
      const conversation = await this.host.client.getConversation(this.conversationId);
      this.dispatch({ type: 'restored', messages: viewsFromStored(conversation.messages) });
    } catch (err) {
      if (isInvalidParams(err)) {
        // Deleted (from another window or editor): the panel starts afresh.
        await this.setConversation(undefined);
        this.dispatch({ type: 'cleared' });
      } else {
        this.host.log.warn(`Could not load the conversation: ${errorMessage(err)}`);
      }
    }
  }

  /** The open conversation, created in the sidecar at the first question. */
  private async conversation(): Promise<string> {
    if (!this.conversationId) {
      const { id } = await this.host.client.createConversation({});
      await this.setConversation(id);
    }
    return this.conversationId!;
  }

  /** `.sidekick/instructions.md` of the first workspace folder, else `sidekick.instructions`. */
  private async instructions(): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    let file: string | undefined;
    if (folder) {
      try {
        const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, '.sidekick', 'instructions.md'));
        file = new TextDecoder().decode(bytes);
      } catch {
        file = undefined; // no such file: the setting, if any
      }
    }
    return instructionsFrom(file, vscode.workspace.getConfiguration('sidekick').get<string>('instructions'));
  }

  /** Opens one of the sidecar's conversations in the panel. */
  async open(id: string): Promise<void> {
    this.stop();
    await this.setConversation(id);
    this.dispatch({ type: 'cleared' });
    await this.sync(true);
  }

  /** The open conversation's id (its rename and delete). */
  current(): string | undefined {
    return this.conversationId;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webviewRoot = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    view.webview.options = {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [webviewRoot],
    };
    view.webview.html = webviewHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'main.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'main.css')).toString(),
    });
    view.webview.onDidReceiveMessage((raw) => {
      const message = parseFromWebview(raw);
      if (message) void this.onMessage(message);
      else this.host.log.warn('Ignored a malformed message from the chat view');
    });
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
  }

  private post(message: ToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(message);
  }

  private postState(): void {
    this.post({
      type: 'state',
      messages: this.state.messages,
      header: this.header,
      streaming: streamingChatId(this.state) !== undefined,
    });
  }

  private dispatch(action: ChatAction): void {
    const before = this.state;
    this.state = reduce(this.state, action);
    if (this.state === before) return;
    const streaming = streamingChatId(this.state) !== undefined;
    if ('chatId' in action && before.messages.length === this.state.messages.length) {
      const message = this.state.messages.find((m) => m.chatId === action.chatId);
      if (message) this.post({ type: 'message', message, streaming });
    } else {
      this.postState();
    }
  }

  private async onMessage(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.postState();
        this.postContext();
        void this.sync().then(() => this.countFill());
        if (this.pendingFocus) this.post({ type: 'focus' });
        this.pendingFocus = false;
        return;
      case 'send':
        return this.send(message.text);
      case 'stop':
        return this.stop();
      case 'newChat':
        return this.newChat();
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        vscode.window.setStatusBarMessage('$(check) Sidekick: code copied', 2000);
        return;
      case 'insert':
        return this.host.insertAtCursor(message.text, message.language);
      case 'retry':
        return this.retry(message.id);
      case 'edit':
        return this.edit(message.id, message.text);
      case 'draft':
        this.draft = message.text;
        return this.countFill();
      case 'attach':
        return this.attachFrom(message.what);
      case 'mentionQuery':
        return this.post({ type: 'mentions', query: message.query, files: await this.mentionFiles.search(message.query) });
      case 'attachMention':
        return this.attach(await this.mentionFiles.attach(message.path));
      case 'detach':
        this.attached = removeContext(this.attached, message.key);
        this.postContext();
        return this.countFill();
      case 'listConversations':
        return this.postConversations(message.query);
      case 'openConversation':
        await this.open(message.id);
        return this.postConversations(this.listQuery);
      case 'renameConversation':
        return this.rename(message.id);
      case 'deleteConversation':
        return this.remove(message.id);
      case 'openUrl':
        if (isSafeUrl(message.url)) await vscode.env.openExternal(vscode.Uri.parse(message.url, true));
        else this.host.log.warn('Refused to open a link that is not https');
        return;
      case 'runCommand': {
        if (!WEBVIEW_COMMANDS.has(message.command)) return;
        const outcome = await vscode.commands.executeCommand(message.command, ...(message.args ?? []));
        // The card's problem is fixed once its button connected a provider or picked a model:
        // the question it failed is offered again.
        if (message.id && (outcome === 'selected' || outcome === 'connected')) {
          this.dispatch({ type: 'fixed', id: message.id });
        }
        return;
      }
    }
  }

  /** Provider state changed (or was fetched): update the header. */
  setProviders(state: ProvidersState | undefined): void {
    this.header = headerFor(state);
    this.post({ type: 'header', header: this.header });
  }

  onDelta(delta: ChatDeltaParams): void {
    this.dispatch({ type: 'delta', chatId: delta.chatId, seq: delta.seq, text: delta.text });
  }

  onStatus(status: ChatStatusParams): void {
    if (status.state !== 'retrying') return;
    this.dispatch({
      type: 'retrying',
      chatId: status.chatId,
      attempt: status.attempt,
      delayMs: status.delayMs,
      message: status.message,
      now: Date.now(),
    });
  }

  /**
   * Asks `raw` in the open conversation. A question from the prompt box takes the attached
   * context along (and the chips go); Edit and Regenerate pass the context of the question they
   * replace.
   */
  async send(raw: string, options: { dropOldest?: boolean; context?: ContextItem[] } = {}): Promise<void> {
    const text = raw.trim();
    if (!text || streamingChatId(this.state) !== undefined) return;
    let context = options.context;
    if (!context) {
      context = this.attached;
      this.attached = [];
      this.draft = '';
      this.postContext();
    }
    const chatId = `chat-${randomUUID()}`;
    this.dispatch({ type: 'userSent', userId: `u-${randomUUID()}`, assistantId: `a-${randomUUID()}`, chatId, text, context });
    const cts = new vscode.CancellationTokenSource();
    this.running.set(chatId, cts);
    this.host.onStreaming(true);
    try {
      await this.sync();
      const conversationId = await this.conversation();
      const instructions = await this.instructions();
      const result = await this.host.client.chat(
        {
          chatId,
          conversationId,
          messages: [{ role: 'user', content: text, ...(context.length ? { context } : {}) }],
          ...(instructions ? { instructions } : {}),
          ...(options.dropOldest ? { dropOldest: true } : {}),
        },
        cts.token,
      );
      this.dispatch({ type: 'finished', chatId, result });
    } catch (err) {
      const guidance = guidanceOf(err);
      if (guidance) {
        this.dispatch({ type: 'failed', chatId, card: cardFor(guidance, Date.now()), partialText: guidance.partialText });
      } else if (isCancelled(err) || cts.token.isCancellationRequested) {
        this.dispatch({ type: 'stopped', chatId });
      } else {
        this.host.log.error(`Chat ${chatId} failed: ${errorMessage(err)}`);
        this.dispatch({
          type: 'failed',
          chatId,
          partialText: null,
          // The library's own words ("Pending response rejected since connection got
          // disposed") mean nothing to a person; they are in the log.
          card: plainCard(
            'The answer was interrupted',
            'The connection to the Sidekick server broke while it was answering. The server restarts by itself and your conversation is kept: ask again in a moment.',
          ),
        });
      }
    } finally {
      this.running.delete(chatId);
      cts.dispose();
      this.host.onStreaming(this.running.size > 0);
      void this.countFill();
    }
  }

  /**
   * Retry / Ask again / Regenerate (`id` is the last answer): it and its question go, here and
   * in the sidecar, and the question is asked anew with its context.
   */
  async retry(id: string, options: { dropOldest?: boolean } = {}): Promise<void> {
    const text = retryable(this.state, id);
    const question = this.state.messages[this.state.messages.length - 2];
    if (text === undefined || !question) return;
    await this.redo(question, text, options);
  }

  /** Edit: the question `id` and everything after it go, and `text` is asked in its place. */
  async edit(id: string, text: string): Promise<void> {
    const question = editable(this.state, id);
    if (!question || !text.trim()) return;
    await this.redo(question, text);
  }

  private async redo(asked: MessageView, text: string, options: { dropOldest?: boolean } = {}): Promise<void> {
    // Until the new question streams, a second click would truncate and ask twice.
    if (streamingChatId(this.state) !== undefined || this.redoing) return;
    this.redoing = true;
    try {
      await this.redoNow(asked, text, options);
    } finally {
      this.redoing = false;
    }
  }

  private async redoNow(asked: MessageView, text: string, options: { dropOldest?: boolean }): Promise<void> {
    // The first load from the sidecar replaces the messages (an old history's ids): look again.
    await this.sync();
    const before = this.state.messages;
    const index = before.findIndex((m) => m.id === asked.id);
    const question = before[index];
    if (!question || streamingChatId(this.state) !== undefined) return;
    this.dispatch({ type: 'truncated', id: question.id });
    if (this.conversationId) {
      try {
        const stored = await this.host.client.getConversation(this.conversationId);
        const from = storedCut(before, index, stored.messages);
        if (from) await this.host.client.truncateConversation(this.conversationId, from);
      } catch (err) {
        this.host.log.warn(`Could not take the question out of the stored conversation: ${errorMessage(err)}`);
      }
    }
    await this.send(text, { ...options, context: question.context ?? [] });
  }

  /** What the next question (`draft`) would send, against the model's window, to the view. */
  private async countFill(): Promise<void> {
    if (!this.header.connected) return;
    const draft = this.draft;
    try {
      const instructions = await this.instructions();
      const counted = await this.host.client.countTokens({
        ...(this.conversationId ? { conversationId: this.conversationId } : {}),
        messages: draft.trim() ? [{ role: 'user', content: draft }] : [],
        ...(this.attached.length ? { context: this.attached } : {}),
        ...(instructions ? { instructions } : {}),
      });
      this.post({ type: 'fill', tokens: counted.tokens, window: counted.window });
    } catch (err) {
      this.host.log.debug(`Could not count tokens: ${errorMessage(err)}`);
    }
  }

  /** Attaches files or selections to the next question (the view's buttons and the commands). */
  async attach(items: readonly ContextItem[]): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) this.attached = addContext(this.attached, item);
    this.postContext();
    await this.focusPrompt();
    await Promise.all([this.countChips(items), this.countFill()]);
  }

  private async attachFrom(what: AttachKind): Promise<void> {
    const items =
      what === 'file' ? await pickFiles() : what === 'editors' ? await openEditors() : selections(vscode.window.activeTextEditor ?? this.host.lastEditor());
    await this.attach(items);
  }

  /** Each new chip's own tokens (one small request each; the size in lines until then). */
  private async countChips(items: readonly ContextItem[]): Promise<void> {
    if (!this.header.connected) return;
    await Promise.all(
      items.map(async (item) => {
        try {
          const counted = await this.host.client.countTokens({ messages: [], context: [item] });
          this.chipTokens.set(contextKey(item), counted.tokens);
        } catch (err) {
          this.host.log.debug(`Could not count an attachment's tokens: ${errorMessage(err)}`);
        }
      }),
    );
    this.postContext();
  }

  private postContext(): void {
    this.post({ type: 'context', chips: this.attached.map((item) => chipFor(item, this.chipTokens.get(contextKey(item)))) });
  }

  /** The view's conversation list, searched by the sidecar. */
  private async postConversations(query: string): Promise<void> {
    this.listQuery = query;
    try {
      const q = query.trim();
      const r = await this.host.client.listConversations({ limit: 100, ...(q ? { query: q } : {}) });
      if (query !== this.listQuery) return; // a newer search's answer wins
      this.listed = r.conversations;
      const now = Date.now();
      this.post({
        type: 'conversations',
        query,
        items: r.conversations.map((c) => ({
          id: c.id,
          title: c.title,
          model: c.model,
          when: relativeTime(c.updatedAt, now),
          messageCount: c.messageCount,
          current: c.id === this.conversationId,
        })),
      });
    } catch (err) {
      this.host.log.warn(`Could not list conversations: ${errorMessage(err)}`);
    }
  }

  private async rename(id: string): Promise<void> {
    const c = this.listed.find((x) => x.id === id);
    if (!c) return;
    const title = await vscode.window.showInputBox({ title: 'Rename conversation', value: c.title, ignoreFocusOut: true });
    if (!title?.trim()) return;
    try {
      await this.host.client.renameConversation(id, title.trim());
    } catch (err) {
      void vscode.window.showErrorMessage(`Sidekick: could not rename the conversation: ${errorMessage(err)}`);
    }
    await this.postConversations(this.listQuery);
  }

  private async remove(id: string): Promise<void> {
    const c = this.listed.find((x) => x.id === id);
    if (!c) return;
    const ok = await vscode.window.showWarningMessage(
      `Delete “${c.title || '(untitled)'}” and its ${c.messageCount} messages?`,
      { modal: true },
      'Delete',
    );
    if (ok !== 'Delete') return;
    try {
      await this.host.client.deleteConversation(id);
      if (this.conversationId === id) this.newChat();
    } catch (err) {
      void vscode.window.showErrorMessage(`Sidekick: could not delete the conversation: ${errorMessage(err)}`);
    }
    await this.postConversations(this.listQuery);
  }

  /** The guidance's "Drop oldest messages": the chat it failed is sent again with dropOldest. */
  async dropOldest(chatId: unknown): Promise<void> {
    const failed = this.state.messages.find((m) => m.chatId === chatId);
    if (failed) await this.retry(failed.id, { dropOldest: true });
  }

  stop(): void {
    for (const cts of this.running.values()) cts.cancel();
  }

  /** Sidekick: Focus Chat — reveal the view and put the cursor in the prompt box. */
  async focusPrompt(): Promise<void> {
    await vscode.commands.executeCommand(`${ChatPanel.viewId}.focus`);
    if (this.view && this.ready) this.post({ type: 'focus' });
    else this.pendingFocus = true;
  }

  newChat(): void {
    this.stop();
    // The next question creates the sidecar's new conversation (and remembers it); the old one
    // stays listed, and stays the one a reload opens until then.
    this.conversationId = undefined;
    this.openRead = true;
    this.synced = Promise.resolve();
    // The cancelled chats' results find no message to update any more: they are dropped.
    this.dispatch({ type: 'cleared' });
  }

  dispose(): void {
    this.stop();
  }
}

/** A -32602 answer: the request named something the sidecar does not have. */
function isInvalidParams(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ErrorCode.invalidParams;
}
