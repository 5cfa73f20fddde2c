// Starts and restarts the sidecar through vscode-languageclient (client id `sidekick`): finds the
// binary, makes sure it is executable, passes the settings, serves `sidekick/secrets/*` from
// `context.secrets`, restarts after a crash and tells the user. Holds no provider logic.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  ChatDeltaNotification,
  ChatRequest,
  ChatStatusNotification,
  ConnectRequest,
  DisconnectRequest,
  ListModelsRequest,
  ListProvidersRequest,
  PROTOCOL_VERSION,
  RequestLogRequest,
  RequestLoggedNotification,
  SpendRequest,
  ConnectAdminRequest,
  DisconnectAdminRequest,
  OrgCostsRequest,
  OrgSyncNotification,
  OrgUsageRequest,
  ListConversationsRequest,
  CreateConversationRequest,
  GetConversationRequest,
  RenameConversationRequest,
  DeleteConversationRequest,
  TruncateConversationRequest,
  CountTokensRequest,
  type ListConversationsParams,
  type ListConversationsResult,
  type CreateConversationParams,
  type ConversationId,
  type Conversation,
  type CountTokensParams,
  type CountTokensResult,
  type ConnectAdminParams,
  type ConnectAdminResult,
  type DisconnectAdminParams,
  type DisconnectAdminResult,
  type OrgCostsParams,
  type OrgCostsResult,
  type OrgSyncParams,
  type OrgUsageParams,
  type OrgUsageResult,
  SecretsDeleteRequest,
  SecretsGetRequest,
  SecretsStoreRequest,
  SelectModelRequest,
  StateChangedNotification,
  type ChatDeltaParams,
  type ChatParams,
  type ChatResult,
  type ChatStatusParams,
  type ConnectParams,
  type ConnectResult,
  type DisconnectParams,
  type DisconnectResult,
  type ListModelsParams,
  type ListModelsResult,
  type ProvidersState,
  type RequestLogEntry,
  type RequestLogParams,
  type RequestLogResult,
  type SelectModelParams,
  type SelectModelResult,
  type SpendParams,
  type SpendResult,
} from './protocol';
import { protocolMismatch } from './version';
import { serverLogLevel } from './serverLog';
import { findServerBinary } from './serverBinary';
import { initializationOptions, serverSettings } from './settings';

export const CLIENT_ID = 'sidekick';
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** Thrown when no binary is found; the message says what is missing and how to fix it. */
export class ServerNotFoundError extends Error {}

/** Thrown when the sidecar speaks another protocol version; the message says which and what to do. */
export class ProtocolMismatchError extends Error {}

/**
 * A LogOutputChannel that drops everything and never leaves `Off`. vscode-languageclient traces
 * every message (params included, so `sidekick/connect`'s apiKey) whenever its trace channel is at
 * Trace level; giving it this channel keeps protocol tracing off for good.
 */
function silentTraceChannel(): vscode.LogOutputChannel {
  const noop = () => undefined;
  const never: vscode.Event<vscode.LogLevel> = () => ({ dispose: noop });
  return {
    name: 'Sidekick (trace disabled)',
    logLevel: vscode.LogLevel.Off,
    onDidChangeLogLevel: never,
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    append: noop,
    appendLine: noop,
    replace: noop,
    clear: noop,
    show: noop,
    hide: noop,
    dispose: noop,
  } as vscode.LogOutputChannel;
}

/** Ensures the binary is executable: vsce keeps the bit on Unix, but unpacking tools may not. */
export function ensureExecutable(file: string, log: vscode.LogOutputChannel): void {
  if (process.platform === 'win32') return;
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    try {
      fs.chmodSync(file, 0o755);
      log.info(`Made ${file} executable`);
    } catch (err) {
      log.warn(`Could not make ${file} executable: ${String(err)}`);
    }
  }
}

export interface SidekickClientEvents {
  onStateChanged(state: ProvidersState): void;
  onChatDelta(delta: ChatDeltaParams): void;
  onChatStatus(status: ChatStatusParams): void;
  /** The ledger recorded a provider call. */
  onRequestLogged?(entry: RequestLogEntry): void;
  /** Progress of an organization ingestion. */
  onOrgSync?(progress: OrgSyncParams): void;
  /** The server (re)started and answered `initialize`: re-fetch what it knows. */
  onRunning(): void;
  /** The client stopped for good (gave up restarting, or a restart is under way). */
  onStopped(): void;
}

export class SidekickClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private restarts: number[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly events: SidekickClientEvents,
  ) {}

  /** The binary to run, or a ServerNotFoundError. */
  private serverPath(): string {
    const config = vscode.workspace.getConfiguration('sidekick');
    const found = findServerBinary({
      configuredPath: config.get<string>('server.path'),
      extensionPath: this.context.extensionPath,
      platform: process.platform,
      arch: process.arch,
      homeDir: os.homedir(),
      development: this.context.extensionMode === vscode.ExtensionMode.Development,
      exists: (file) => {
        try {
          return fs.statSync(file).isFile();
        } catch {
          return false;
        }
      },
    });
    if (found.kind === 'missing') throw new ServerNotFoundError(found.message);
    this.log.info(`Using ${found.path} (${found.source})`);
    if (found.source !== 'setting') ensureExecutable(found.path, this.log);
    return found.path;
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (_error, _message, count): ErrorHandlerResult => ({
        action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        handled: true,
      }),
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
        if (this.restarts.length > MAX_RESTARTS) {
          const message = `The Sidekick server stopped ${this.restarts.length} times in 3 minutes and will not be restarted. See the logs, then run "Sidekick: Restart Server".`;
          this.log.error(message);
          void this.notifyCrash(message, true);
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const message = 'The Sidekick server stopped unexpectedly and is restarting. Your conversation is kept.';
        this.log.warn(message);
        void this.notifyCrash(message, false);
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }

  private async notifyCrash(message: string, fatal: boolean): Promise<void> {
    const buttons = fatal ? ['Restart Server', 'Show Logs'] : ['Show Logs'];
    const show = fatal ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const choice = await show(message, ...buttons);
    if (choice === 'Show Logs') this.log.show(true);
    if (choice === 'Restart Server') await vscode.commands.executeCommand('sidekick.restartServer');
  }

  /** Starts the server (throws ServerNotFoundError when there is no binary). */
  async start(): Promise<void> {
    if (this.client) return;
    const command = this.serverPath();
    // The extension host's environment goes through unchanged (SIDEKICK_OPENAI_BASE_URL,
    // the providers' key variables, proxies); TransportKind.stdio adds `--stdio`.
    const serverOptions: ServerOptions = {
      run: { command, transport: TransportKind.stdio },
      debug: { command, transport: TransportKind.stdio },
    };
    const getSetting = (key: string) => vscode.workspace.getConfiguration('sidekick').get(key);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.log,
      traceOutputChannel: silentTraceChannel(),
      initializationOptions: () => initializationOptions(getSetting),
      errorHandler: this.errorHandler(),
      stdioOptions: {
        stdout: (input, channel) => lines(input, (line) => channel.info(line)),
        stderr: (input, channel) => lines(input, (line) => channel[serverLogLevel(line)](line)),
      },
      connectionOptions: { maxRestartCount: MAX_RESTARTS },
    };
    const client = new LanguageClient(CLIENT_ID, 'Sidekick', serverOptions, clientOptions);
    this.client = client;

    client.onNotification(StateChangedNotification, (p) => this.events.onStateChanged(p));
    client.onNotification(ChatDeltaNotification, (p) => this.events.onChatDelta(p));
    client.onNotification(ChatStatusNotification, (p) => this.events.onChatStatus(p));
    client.onNotification(RequestLoggedNotification, (p) => this.events.onRequestLogged?.(p));
    client.onNotification(OrgSyncNotification, (p) => this.events.onOrgSync?.(p));
    const secrets = this.context.secrets;
    client.onRequest(SecretsGetRequest, async (p) => ({ value: (await secrets.get(p.key)) ?? null }));
    client.onRequest(SecretsStoreRequest, async (p) => {
      if (typeof p.value !== 'string') throw new Error('secrets/store: value is missing');
      await secrets.store(p.key, p.value);
      return {};
    });
    client.onRequest(SecretsDeleteRequest, async (p) => {
      await secrets.delete(p.key);
      return {};
    });
    this.disposables.push(
      client.onDidChangeState((e) => {
        if (e.newState === State.Running) this.events.onRunning();
        else if (e.newState === State.Stopped) this.events.onStopped();
      }),
    );
    await client.start();
    const mismatch = protocolMismatch(client.initializeResult, PROTOCOL_VERSION, command);
    if (mismatch) {
      this.log.error(mismatch);
      this.client = undefined;
      await client.stop().catch(() => undefined);
      throw new ProtocolMismatchError(mismatch);
    }
  }

  /** Sends the changed settings (the server applies them on top of the current ones). */
  sendSettings(): void {
    if (!this.client?.isRunning()) return;
    const settings = serverSettings((key) => vscode.workspace.getConfiguration('sidekick').get(key));
    void this.client
      .sendNotification('workspace/didChangeConfiguration', { settings })
      .catch((err) => this.log.warn(`Sending settings failed: ${String(err)}`));
  }

  /** Stops the server (if any) and starts it again, looking up the binary anew. */
  async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    this.restarts = [];
    if (old) {
      try {
        await old.stop(5000);
      } catch (err) {
        this.log.warn(`Stopping the server failed: ${String(err)}`);
      }
      await old.dispose().catch(() => undefined);
    }
    await this.start();
  }

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  /** The running client, or a rejection that says what to do. */
  private runningClient(): Promise<LanguageClient> {
    return this.client
      ? Promise.resolve(this.client)
      : Promise.reject(new Error('The Sidekick server is not running. Run "Sidekick: Restart Server".'));
  }

  async listProviders(): Promise<ProvidersState> {
    return (await this.runningClient()).sendRequest(ListProvidersRequest, {});
  }
  async connect(params: ConnectParams): Promise<ConnectResult> {
    return (await this.runningClient()).sendRequest(ConnectRequest, params);
  }
  async listModels(params: ListModelsParams): Promise<ListModelsResult> {
    return (await this.runningClient()).sendRequest(ListModelsRequest, params);
  }
  async selectModel(params: SelectModelParams): Promise<SelectModelResult> {
    return (await this.runningClient()).sendRequest(SelectModelRequest, params);
  }
  async disconnect(params: DisconnectParams): Promise<DisconnectResult> {
    return (await this.runningClient()).sendRequest(DisconnectRequest, params);
  }
  async requestLog(params: RequestLogParams): Promise<RequestLogResult> {
    return (await this.runningClient()).sendRequest(RequestLogRequest, params);
  }
  async spend(params: SpendParams): Promise<SpendResult> {
    return (await this.runningClient()).sendRequest(SpendRequest, params);
  }
  /** The token cancels (`$/cancelRequest`); the answer is then error -32800. */
  async connectAdmin(params: ConnectAdminParams): Promise<ConnectAdminResult> {
    return (await this.runningClient()).sendRequest(ConnectAdminRequest, params);
  }
  async disconnectAdmin(params: DisconnectAdminParams): Promise<DisconnectAdminResult> {
    return (await this.runningClient()).sendRequest(DisconnectAdminRequest, params);
  }
  /** Cancelling `token` stops the ingestion; the pages already fetched stay cached. */
  async orgCosts(params: OrgCostsParams, token?: vscode.CancellationToken): Promise<OrgCostsResult> {
    return (await this.runningClient()).sendRequest(OrgCostsRequest, params, token);
  }
  async orgUsage(params: OrgUsageParams, token?: vscode.CancellationToken): Promise<OrgUsageResult> {
    return (await this.runningClient()).sendRequest(OrgUsageRequest, params, token);
  }

  async listConversations(params: ListConversationsParams): Promise<ListConversationsResult> {
    return (await this.runningClient()).sendRequest(ListConversationsRequest, params);
  }
  async createConversation(params: CreateConversationParams): Promise<ConversationId> {
    return (await this.runningClient()).sendRequest(CreateConversationRequest, params);
  }
  async getConversation(id: string): Promise<Conversation> {
    return (await this.runningClient()).sendRequest(GetConversationRequest, { id });
  }
  async renameConversation(id: string, title: string): Promise<{ id: string; title: string }> {
    return (await this.runningClient()).sendRequest(RenameConversationRequest, { id, title });
  }
  async deleteConversation(id: string): Promise<void> {
    await (await this.runningClient()).sendRequest(DeleteConversationRequest, { id });
  }
  async truncateConversation(id: string, fromMessageId: string): Promise<number> {
    return (await (await this.runningClient()).sendRequest(TruncateConversationRequest, { id, fromMessageId })).removed;
  }
  async countTokens(params: CountTokensParams): Promise<CountTokensResult> {
    return (await this.runningClient()).sendRequest(CountTokensRequest, params);
  }

  async chat(params: ChatParams, token: vscode.CancellationToken): Promise<ChatResult> {
    return (await this.runningClient()).sendRequest(ChatRequest, params, token);
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables.splice(0)) d.dispose();
    const client = this.client;
    this.client = undefined;
    if (client) await client.dispose(2000).catch(() => undefined);
  }
}

function lines(input: NodeJS.ReadableStream, each: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', each);
}
