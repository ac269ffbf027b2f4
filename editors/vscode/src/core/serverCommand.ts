/**
 * Settings -> command line that starts the language server.
 *
 * Pure logic: must not import `vscode`.
 */
import { expandPath, nonEmptyString, type ExpandContext } from './settings';

export type CommandSource = 'path' | 'interpreter' | 'python-extension' | 'default';

export interface ServerCommand {
  command: string;
  args: string[];
  /** Which setting the command came from (shown in the output channel). */
  source: CommandSource;
}

export interface CommandInputs extends ExpandContext {
  /** `manyskills.path`: a `manyskills` executable. */
  path?: unknown;
  /** `manyskills.interpreter`: a Python interpreter. */
  interpreter?: unknown;
  /** The interpreter selected in the Python extension, when it is installed and has one. */
  pythonExtensionInterpreter?: string | undefined;
}

export const SERVE_ARGS: readonly string[] = ['serve'];
export const MODULE_SERVE_ARGS: readonly string[] = ['-m', 'manyskills', 'serve'];

export function defaultInterpreter(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/**
 * True when neither `manyskills.path` nor `manyskills.interpreter` is set, i.e. when the
 * Python extension has to be asked for its interpreter.
 */
export function needsPythonExtension(inputs: Pick<CommandInputs, 'path' | 'interpreter'>): boolean {
  return nonEmptyString(inputs.path) === undefined && nonEmptyString(inputs.interpreter) === undefined;
}

/**
 * Precedence: `manyskills.path` (run `<path> serve`), then `manyskills.interpreter`, then the
 * Python extension's interpreter, then `python3` (`python` on Windows), each run as
 * `<interpreter> -m manyskills serve`.
 */
export function resolveServerCommand(inputs: CommandInputs): ServerCommand {
  const exe = nonEmptyString(inputs.path);
  if (exe !== undefined) {
    return { command: expandPath(exe, inputs), args: [...SERVE_ARGS], source: 'path' };
  }
  const interpreter = nonEmptyString(inputs.interpreter);
  if (interpreter !== undefined) {
    return { command: expandPath(interpreter, inputs), args: [...MODULE_SERVE_ARGS], source: 'interpreter' };
  }
  const fromPython = nonEmptyString(inputs.pythonExtensionInterpreter);
  if (fromPython !== undefined) {
    return { command: fromPython, args: [...MODULE_SERVE_ARGS], source: 'python-extension' };
  }
  return { command: defaultInterpreter(inputs.platform), args: [...MODULE_SERVE_ARGS], source: 'default' };
}

const SOURCE_LABELS: Record<CommandSource, string> = {
  path: 'setting manyskills.path',
  interpreter: 'setting manyskills.interpreter',
  'python-extension': 'Python extension interpreter',
  default: 'default interpreter',
};

function quote(arg: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** A printable command line, e.g. `/usr/bin/python3 -m manyskills serve (from …)`. */
export function describeServerCommand(cmd: ServerCommand): string {
  return `${[cmd.command, ...cmd.args].map(quote).join(' ')} (from ${SOURCE_LABELS[cmd.source]})`;
}
