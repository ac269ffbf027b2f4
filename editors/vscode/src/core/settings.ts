/**
 * Server settings: defaults, validation and path expansion.
 *
 * Pure logic: must not import `vscode` (unit-tested without a VS Code instance).
 */
import * as path from 'node:path';

export const SECTION = 'manyskills';

export type Device = 'auto' | 'cpu' | 'cuda';
export const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda'];

export const SKILLS = ['defect', 'review', 'clone', 'search', 'flaky'] as const;
export type Skill = (typeof SKILLS)[number];

/** Language ids as the server names them (note `tsx`, not `typescriptreact`). */
export const SERVER_LANGUAGES = [
  'python',
  'javascript',
  'typescript',
  'tsx',
  'java',
  'c',
  'cpp',
  'go',
  'rust',
] as const;

/** VS Code language ids the client attaches to (document selector / activation events). */
export const CLIENT_LANGUAGE_IDS = [
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'java',
  'c',
  'cpp',
  'go',
  'rust',
] as const;

/** The settings the server reads (`workspace/configuration` section `manyskills`). */
export interface ServerSettings {
  threshold: number | null;
  flakyThreshold: number | null;
  skills: Record<Skill, boolean>;
  device: Device;
  model: string | null;
  adapter: string | null;
  projectAdapter: string;
  debounceMs: number;
  maxFileBytes: number;
  languages: string[];
  cloneThreshold: number;
  cacheSize: number;
}

/** Mirrors the server's defaults (server/manyskills/settings.py) and package.json. */
export const DEFAULT_SETTINGS: Readonly<ServerSettings> = Object.freeze({
  threshold: null,
  flakyThreshold: null,
  skills: Object.freeze({ defect: true, review: true, clone: true, search: true, flaky: true }),
  device: 'auto',
  model: null,
  adapter: null,
  projectAdapter: 'auto',
  debounceMs: 300,
  maxFileBytes: 1_000_000,
  languages: Object.freeze([...SERVER_LANGUAGES]) as unknown as string[],
  cloneThreshold: 0.95,
  cacheSize: 50_000,
});

export const SERVER_SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as (keyof ServerSettings)[];

/**
 * Client-only settings. They are never sent to the server, which reports unknown keys as
 * "unknown setting ... ignored". (`trace.server` appears as a nested `trace` object.)
 */
export const CLIENT_ONLY_KEYS = ['path', 'interpreter', 'trace'] as const;

/** Settings whose change requires restarting the server process. */
export const RESTART_KEYS = ['path', 'interpreter'] as const;

/**
 * Which of the restart-requiring settings a configuration change touched.
 * `affects` is typically `(s) => event.affectsConfiguration(s)`.
 */
export function restartRequiredBy(affects: (fullKey: string) => boolean): string[] {
  return RESTART_KEYS.map((k) => `${SECTION}.${k}`).filter((k) => affects(k));
}

export interface ExpandContext {
  /** The user's home directory. */
  home?: string;
  /** File-system path of the workspace folder the setting applies to. */
  workspaceFolder?: string;
  /** Environment variables for `${env:NAME}`. */
  env?: Record<string, string | undefined>;
  /** Defaults to the current platform. */
  platform?: NodeJS.Platform;
}

function pathApi(platform: NodeJS.Platform | undefined): path.PlatformPath {
  return (platform ?? process.platform) === 'win32' ? path.win32 : path.posix;
}

/**
 * Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a path setting,
 * and resolves a relative path that contains a directory separator (e.g. `.venv/bin/python`)
 * against the workspace folder. A bare command name (`python3`) is returned unchanged so
 * that it is looked up on PATH.
 */
export function expandPath(value: string, ctx: ExpandContext = {}): string {
  const p = pathApi(ctx.platform);
  let out = value.trim();
  out = out.replace(/\$\{(userHome|workspaceFolder|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, envName?: string) => {
    if (name === 'userHome') {
      return ctx.home ?? whole;
    }
    if (name === 'workspaceFolder') {
      return ctx.workspaceFolder ?? whole;
    }
    return envName !== undefined ? (ctx.env?.[envName] ?? '') : whole;
  });
  if (ctx.home !== undefined && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) {
    out = p.join(ctx.home, out.slice(1));
  }
  const hasSeparator = out.includes('/') || (p === path.win32 && out.includes('\\'));
  if (hasSeparator && !p.isAbsolute(out) && ctx.workspaceFolder !== undefined && !out.includes('${')) {
    out = p.join(ctx.workspaceFolder, out);
  }
  return out;
}

/** A non-empty trimmed string, or undefined. */
export function nonEmptyString(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function copyDefaults(): Record<string, unknown> {
  return { ...DEFAULT_SETTINGS, skills: { ...DEFAULT_SETTINGS.skills }, languages: [...DEFAULT_SETTINGS.languages] };
}

function pathSetting(value: unknown, ctx: ExpandContext): unknown {
  if (typeof value !== 'string') {
    return value; // null, or a wrong type the server will report
  }
  const trimmed = nonEmptyString(value);
  return trimmed === undefined ? null : expandPath(trimmed, ctx);
}

/** `projectAdapter`: `auto` / `off` (or empty: `auto`) pass through, a directory is expanded like `adapter`. */
function projectAdapterSetting(value: unknown, ctx: ExpandContext): unknown {
  if (typeof value !== 'string') {
    return value;
  }
  const trimmed = nonEmptyString(value);
  if (trimmed === undefined) {
    return 'auto';
  }
  return trimmed === 'auto' || trimmed === 'off' ? trimmed : expandPath(trimmed, ctx);
}

/**
 * The `manyskills` section as VS Code returned it -> the object sent to the server
 * (`workspace/configuration` answers, `workspace/didChangeConfiguration`, initializationOptions).
 *
 * - client-only keys (`path`, `interpreter`, `trace`) are removed;
 * - missing keys get their defaults;
 * - `projectAdapter`: `auto` and `off` pass through, an empty string means `auto`, a directory is
 *   expanded like `adapter`;
 * - `model` / `adapter`: an empty string means `null` (the embedded default), and `~`,
 *   `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and workspace-relative paths are expanded
 *   (the server does not know the workspace folder of a setting);
 * - every other value is passed through unchanged: the server validates the settings and
 *   reports each invalid or unknown one in a message, keeping its previous value.
 */
export function toServerSettings(raw: unknown, ctx: ExpandContext = {}): Record<string, unknown> {
  const out = copyDefaults();
  if (isRecord(raw)) {
    for (const [key, value] of Object.entries(raw)) {
      if (!(CLIENT_ONLY_KEYS as readonly string[]).includes(key) && value !== undefined) {
        out[key] = value;
      }
    }
  }
  out.model = pathSetting(out.model, ctx);
  out.adapter = pathSetting(out.adapter, ctx);
  out.projectAdapter = projectAdapterSetting(out.projectAdapter, ctx);
  return out;
}
