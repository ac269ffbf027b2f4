import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  ResponseError,
  RevealOutputChannelOn,
  State,
  type ConfigurationParams,
  type ExecuteCommandOptions,
  type LanguageClientOptions,
  type RegistrationData,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { COMMANDS, serverCommandsToRegister } from './core/commands';
import { SCAN_COMMAND, formatScanSummary, isCancellationCode } from './core/scan';
import { SEARCH_COMMAND, parseSearchResults, searchArguments, toQuickPickItems, type SearchPickItem } from './core/search';
import {
  describeServerCommand,
  needsPythonExtension,
  resolveServerCommand,
  type ServerCommand,
} from './core/serverCommand';
import {
  CLIENT_LANGUAGE_IDS,
  SECTION,
  restartRequiredBy,
  toServerSettings,
  type ExpandContext,
} from './core/settings';
import {
  INITIALIZATION_OPTIONS_STATUS_KEY,
  STATUS_NOTIFICATION,
  adapterLabel,
  parseServerStatus,
  type ClientPhase,
  type ServerStatus,
} from './core/status';
import { getPythonExtensionInterpreter, onDidChangePythonInterpreter } from './python';
import { StatusBar } from './statusBar';

const CLIENT_ID = 'manyskills';
const CLIENT_NAME = 'ManySkills';

function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    return e.message;
  }
  return typeof e === 'string' ? e : JSON.stringify(e);
}

function folderFor(resource: vscode.Uri | undefined): vscode.WorkspaceFolder | undefined {
  const folder = resource !== undefined ? vscode.workspace.getWorkspaceFolder(resource) : undefined;
  return folder ?? vscode.workspace.workspaceFolders?.[0];
}

function expandContext(resource: vscode.Uri | undefined): ExpandContext {
  const folder = folderFor(resource);
  return {
    home: os.homedir(),
    workspaceFolder: folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined,
    env: process.env,
  };
}

function serverSettingsFor(resource: vscode.Uri | undefined): unknown {
  const raw = vscode.workspace.getConfiguration(undefined, resource).get(SECTION);
  return toServerSettings(raw, expandContext(resource));
}

/** The server could not be started; the user has already been told (showStartError). */
class StartError extends Error {}

/** Owns the language client: start, stop, restart, status. */
class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private clientDisposables: vscode.Disposable[] = [];
  private starting: Promise<LanguageClient> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private phase: ClientPhase = 'stopped';
  private serverStatus: ServerStatus | undefined;
  private lastError: string | undefined;
  private command: ServerCommand | undefined;
  private restartPromptOpen = false;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly statusBar: StatusBar,
  ) {}

  private log(message: string): void {
    this.output.appendLine(`[client] ${message}`);
  }

  private render(): void {
    this.statusBar.update({ phase: this.phase, server: this.serverStatus, error: this.lastError });
  }

  private setPhase(phase: ClientPhase, error?: string): void {
    this.phase = phase;
    if (phase !== 'running') {
      this.serverStatus = undefined;
    }
    this.lastError = error;
    this.render();
  }

  /** Runs lifecycle operations one at a time. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  start(): Promise<LanguageClient> {
    return this.enqueue(() => this.doStart());
  }

  restart(): Promise<LanguageClient> {
    return this.enqueue(async () => {
      await this.doStop();
      return this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** The running client; starts it when needed. Rejects when it cannot be started. */
  async ready(): Promise<LanguageClient> {
    if (this.client !== undefined && this.client.state === State.Running) {
      return this.client;
    }
    if (this.starting !== undefined) {
      return this.starting;
    }
    return this.start();
  }

  private async resolveCommand(): Promise<ServerCommand> {
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const config = vscode.workspace.getConfiguration(SECTION, resource);
    const inputs = {
      path: config.get<string | null>('path'),
      interpreter: config.get<string | null>('interpreter'),
      ...expandContext(resource),
    };
    let pythonExtensionInterpreter: string | undefined;
    if (needsPythonExtension(inputs)) {
      pythonExtensionInterpreter = await getPythonExtensionInterpreter(resource, (m) => this.log(m));
    }
    return resolveServerCommand({ ...inputs, pythonExtensionInterpreter });
  }

  private createClient(cmd: ServerCommand): LanguageClient {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const executable = {
      command: cmd.command,
      args: cmd.args,
      // stdio. `transport` is deliberately left unset: TransportKind.stdio would append
      // `--stdio` to the arguments, which `manyskills serve` does not take.
      options: { cwd: folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined, env: { ...process.env } },
    };
    const serverOptions: ServerOptions = { run: executable, debug: executable };

    const clientOptions: LanguageClientOptions = {
      documentSelector: CLIENT_LANGUAGE_IDS.map((language) => ({ scheme: 'file', language })),
      synchronize: { configurationSection: SECTION },
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      diagnosticCollectionName: 'manyskills',
      // Settings at initialize (the server also pulls them with workspace/configuration), and
      // the opt-in for the `manyskills/status` notification that drives the status bar.
      initializationOptions: () => ({
        [INITIALIZATION_OPTIONS_STATUS_KEY]: true,
        [SECTION]: serverSettingsFor(undefined),
      }),
      middleware: {
        workspace: {
          // Answer `workspace/configuration` for the `manyskills` section with cleaned-up,
          // path-expanded settings (client-only keys removed; the server validates the rest).
          configuration: async (params: ConfigurationParams, token, next) => {
            const result = await next(params, token);
            if (result instanceof ResponseError || !Array.isArray(result)) {
              return result;
            }
            return result.map((value: unknown, i) => {
              const item = params.items[i];
              const scope = item?.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              if (item?.section === SECTION) {
                return serverSettingsFor(scope);
              }
              if ((item?.section === undefined || item.section === null || item.section === '') && value) {
                return { ...(value as Record<string, unknown>), [SECTION]: serverSettingsFor(scope) };
              }
              return value;
            });
          },
          // Push the same cleaned-up settings with `workspace/didChangeConfiguration`.
          // The server applies them without a restart.
          didChangeConfiguration: async (sections, next) => {
            if (sections === undefined || this.client === undefined) {
              return next(sections);
            }
            await this.client.sendNotification(DidChangeConfigurationNotification.type, {
              settings: { [SECTION]: serverSettingsFor(undefined) },
            });
          },
        },
      },
    };

    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);

    // The server advertises `manyskills.scanWorkspace` / `manyskills.search` as executable
    // commands; vscode-languageclient would register VS Code commands with those ids, which
    // this extension already owns. Skip them (see serverCommandsToRegister).
    const executeFeature = client.getFeature(ExecuteCommandRequest.method);
    const register = executeFeature.register.bind(executeFeature);
    executeFeature.register = (data: RegistrationData<ExecuteCommandOptions>): void => {
      register({
        ...data,
        registerOptions: { ...data.registerOptions, commands: serverCommandsToRegister(data.registerOptions.commands) },
      });
    };

    this.clientDisposables.push(
      client.onDidChangeState((e) => {
        if (client !== this.client) {
          return;
        }
        switch (e.newState) {
          case State.Starting:
            this.setPhase('starting');
            break;
          case State.Running:
            this.setPhase('running');
            break;
          case State.Stopped:
            if (this.stopping) {
              this.setPhase('stopped');
            } else {
              this.setPhase('failed', 'The server process stopped unexpectedly; see the output.');
            }
            break;
        }
      }),
      client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
        const status = parseServerStatus(params);
        if (status === undefined) {
          this.log(`Ignoring malformed ${STATUS_NOTIFICATION} notification: ${JSON.stringify(params)}`);
          return;
        }
        if (status.state === 'error' && status.message) {
          this.log(`Server error: ${status.message}`);
        }
        if (status.state === 'ready' && status.adapter) {
          const where = status.adapter.path ? ` (${status.adapter.path})` : '';
          this.log(`Model ${status.model} ready with the ${adapterLabel(status.adapter)}${where}`);
        }
        this.serverStatus = status;
        this.render();
      }),
    );
    return client;
  }

  private async doStart(): Promise<LanguageClient> {
    if (this.client !== undefined) {
      if (this.client.state === State.Running) {
        return this.client;
      }
      // A client that failed or gave up restarting: replace it.
      await this.doStop();
    }
    this.setPhase('starting');
    const starting = (async () => {
      const cmd = await this.resolveCommand();
      this.command = cmd;
      this.log(`Starting server: ${describeServerCommand(cmd)}`);
      const client = this.createClient(cmd);
      this.client = client;
      if (cmd.source === 'python-extension') {
        this.clientDisposables.push(
          onDidChangePythonInterpreter(() => {
            void this.offerRestart('The Python interpreter selected in the Python extension changed.');
          }),
        );
      }
      try {
        await client.start();
      } catch (e) {
        const message = errorMessage(e);
        this.log(`Failed to start the server: ${message}`);
        for (const d of this.clientDisposables.splice(0)) {
          d.dispose();
        }
        this.client = undefined;
        this.setPhase('failed', `${describeServerCommand(cmd)}: ${message}`);
        void this.showStartError(cmd, message);
        throw new StartError(message);
      }
      return client;
    })();
    this.starting = starting;
    try {
      return await starting;
    } finally {
      if (this.starting === starting) {
        this.starting = undefined;
      }
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    this.stopping = true;
    try {
      if (client.state === State.Starting) {
        // An automatic restart after a crash is in progress: let it finish, then stop it.
        await client.start().catch(() => undefined);
      }
      if (client.state === State.Running) {
        await client.stop(3000);
      }
    } catch (e) {
      this.log(`Stopping the server: ${errorMessage(e)}`);
    } finally {
      for (const d of this.clientDisposables.splice(0)) {
        d.dispose();
      }
      this.client = undefined;
      this.stopping = false;
      this.setPhase('stopped');
    }
  }

  private async showStartError(cmd: ServerCommand, message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      `ManySkills: could not start the language server (${cmd.command} ${cmd.args.join(' ')}): ${message}. ` +
        'Install it with "pip install manyskills" or set "manyskills.path" / "manyskills.interpreter".',
      'Open Settings',
      'Show Output',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:manyskills.manyskills');
    } else if (choice === 'Show Output') {
      this.output.show(true);
    }
  }

  /** Asks (once at a time) whether to restart the server. */
  async offerRestart(reason: string): Promise<void> {
    if (this.restartPromptOpen) {
      return;
    }
    this.restartPromptOpen = true;
    try {
      const choice = await vscode.window.showInformationMessage(
        `ManySkills: ${reason} Restart the server to apply the change?`,
        'Restart',
      );
      if (choice === 'Restart') {
        await this.restart().catch(() => undefined);
      }
    } finally {
      this.restartPromptOpen = false;
    }
  }

  get currentCommand(): ServerCommand | undefined {
    return this.command;
  }

  dispose(): Promise<void> {
    return this.stop();
  }
}

let manager: ServerManager | undefined;

async function scanWorkspace(mgr: ServerManager): Promise<void> {
  const client = await mgr.ready();
  // The server reports the scan itself with cancellable $/progress (shown as a notification
  // by the language client); this only adds a status bar spinner.
  let value: unknown;
  try {
    value = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'ManySkills: scanning workspace…' },
      (_progress, token) =>
        client.sendRequest(ExecuteCommandRequest.type, { command: SCAN_COMMAND, arguments: [] }, token),
    );
  } catch (e) {
    if (e instanceof ResponseError && isCancellationCode(e.code)) {
      void vscode.window.showInformationMessage('ManySkills: workspace scan cancelled.');
      return;
    }
    throw e;
  }
  void vscode.window.showInformationMessage(formatScanSummary(value));
}

let lastQuery = '';

async function search(mgr: ServerManager): Promise<void> {
  const query = await vscode.window.showInputBox({
    title: 'ManySkills: Search Code',
    prompt: 'Describe the code you are looking for in natural language.',
    placeHolder: 'e.g. parse an ISO date string with a timezone',
    value: lastQuery,
    ignoreFocusOut: true,
  });
  if (query === undefined || query.trim().length === 0) {
    return;
  }
  lastQuery = query.trim();
  const client = await mgr.ready();
  const raw: unknown = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'ManySkills: searching…' },
    (_progress, token) =>
      client.sendRequest(ExecuteCommandRequest.type, { command: SEARCH_COMMAND, arguments: searchArguments(query) }, token),
  );
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => ({ uri: f.uri.toString(), name: f.name }));
  const items = toQuickPickItems(parseSearchResults(raw), folders);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`ManySkills: no results for "${lastQuery}".`);
    return;
  }
  const pick = await vscode.window.showQuickPick<SearchPickItem>(items, {
    title: `ManySkills: results for "${lastQuery}"`,
    placeHolder: 'Select a function to open',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (pick === undefined) {
    return;
  }
  const uri = client.protocol2CodeConverter.asUri(pick.uri);
  const range = client.protocol2CodeConverter.asRange(pick.range);
  const editor = await vscode.window.showTextDocument(uri, { selection: new vscode.Range(range.start, range.start) });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

function reportCommandError(what: string, output: vscode.OutputChannel) {
  return (e: unknown): void => {
    if (e instanceof StartError) {
      return; // already reported
    }
    const message = errorMessage(e);
    output.appendLine(`[client] ${what} failed: ${message}`);
    void vscode.window.showErrorMessage(`ManySkills: ${what} failed: ${message}`);
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel(CLIENT_NAME);
  const statusBar = new StatusBar();
  const mgr = new ServerManager(output, statusBar);
  manager = mgr;
  context.subscriptions.push(output, statusBar);

  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.restartServer, () =>
      mgr.restart().then(
        () => undefined,
        () => undefined, // already reported by the start error message
      ),
    ),
    vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
    vscode.commands.registerCommand(COMMANDS.scanWorkspace, () =>
      scanWorkspace(mgr).catch(reportCommandError('Scan workspace', output)),
    ),
    vscode.commands.registerCommand(COMMANDS.search, () => search(mgr).catch(reportCommandError('Search', output))),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // Other `manyskills.*` settings reach the running server via
      // workspace/didChangeConfiguration; only the server command needs a restart.
      const changed = restartRequiredBy((key) => e.affectsConfiguration(key));
      if (changed.length > 0) {
        void mgr.offerRestart(`${changed.join(' and ')} changed.`);
      }
    }),
  );

  void mgr.start().catch(() => undefined); // failures are shown by showStartError
}

export async function deactivate(): Promise<void> {
  const mgr = manager;
  manager = undefined;
  await mgr?.dispose();
}
