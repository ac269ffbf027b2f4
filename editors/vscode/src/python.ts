/**
 * The interpreter selected in the Python extension (ms-python.python), when available.
 * Every failure (extension missing, activation error, old API, timeout) yields undefined.
 */
import * as vscode from 'vscode';

const PYTHON_EXTENSION_ID = 'ms-python.python';
const TIMEOUT_MS = 15_000;

interface EnvironmentPath {
  id: string;
  path: string;
}

/** The subset of the Python extension API (`@vscode/python-extension`) used here. */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri | vscode.WorkspaceFolder): EnvironmentPath;
    resolveEnvironment(
      env: EnvironmentPath | string,
    ): Promise<{ executable: { uri?: vscode.Uri | undefined } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  /** Legacy API of older Python extension releases. */
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

function withTimeout<T>(promise: Thenable<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function getApi(log: (msg: string) => void): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (ext === undefined) {
    return undefined;
  }
  try {
    if (!ext.isActive) {
      const api = await withTimeout(ext.activate(), TIMEOUT_MS);
      if (api === undefined) {
        log(`The Python extension did not activate within ${TIMEOUT_MS / 1000}s; not using its interpreter.`);
      }
      return api;
    }
    return ext.exports;
  } catch (e) {
    log(`Could not activate the Python extension: ${String(e)}`);
    return undefined;
  }
}

export async function getPythonExtensionInterpreter(
  resource: vscode.Uri | undefined,
  log: (msg: string) => void,
): Promise<string | undefined> {
  const api = await getApi(log);
  if (api === undefined) {
    return undefined;
  }
  try {
    if (api.environments !== undefined) {
      const envPath = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await withTimeout(api.environments.resolveEnvironment(envPath), TIMEOUT_MS);
      const exe = resolved?.executable.uri?.fsPath;
      if (exe) {
        return exe;
      }
      // Unresolvable environment: `path` is usually the interpreter itself.
      return envPath.path || undefined;
    }
    const cmd = api.settings?.getExecutionDetails?.(resource).execCommand;
    if (cmd !== undefined && cmd.length === 1) {
      return cmd[0];
    }
  } catch (e) {
    log(`Could not get the interpreter from the Python extension: ${String(e)}`);
  }
  return undefined;
}

/** Fires when the Python extension's selected interpreter changes (no-op without it). */
export function onDidChangePythonInterpreter(listener: () => void): vscode.Disposable {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  const event = ext?.isActive ? ext.exports?.environments?.onDidChangeActiveEnvironmentPath : undefined;
  return event !== undefined ? event(() => listener()) : new vscode.Disposable(() => undefined);
}
