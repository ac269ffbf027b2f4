/**
 * Status bar text.
 *
 * Pure logic: must not import `vscode`.
 */

/** The language client's lifecycle, as the extension sees it. */
export type ClientPhase = 'starting' | 'running' | 'stopped' | 'failed';

/** `idle`: the model engine has not been started yet. */
export type ServerState = 'idle' | 'loading' | 'ready' | 'error' | 'disabled';
export const SERVER_STATES: readonly ServerState[] = ['idle', 'loading', 'ready', 'error', 'disabled'];

/**
 * How the server chose the adapter it runs: `project` was made by `manyskills adapt` for this
 * repository, `shipped` comes with the server, `setting` is any other directory (the `adapter`
 * setting), `none` means no adapter (untrained heads).
 */
export type AdapterKind = 'shipped' | 'project' | 'setting' | 'none';
export const ADAPTER_KINDS: readonly AdapterKind[] = ['shipped', 'project', 'setting', 'none'];

/** The adapter the server loaded (`adapter` in the status params; servers before it send none). */
export interface ActiveAdapter {
  kind: AdapterKind;
  path?: string;
  version?: string;
  /** The base model the adapter was trained for. */
  base?: string;
  /** For a project adapter: the version of the shipped adapter it was trained on top of. */
  extends?: string;
  trained?: boolean;
}

/** Params of the `manyskills/status` notification. */
export interface ServerStatus {
  state: ServerState;
  model: string;
  device: string;
  message?: string;
  adapter?: ActiveAdapter;
}

export const STATUS_NOTIFICATION = 'manyskills/status';

/** The server sends `manyskills/status` only to clients that opt in at initialize. */
export const INITIALIZATION_OPTIONS_STATUS_KEY = 'statusNotifications';

export function parseServerStatus(raw: unknown): ServerStatus | undefined {
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (!SERVER_STATES.includes(r.state as ServerState)) {
    return undefined;
  }
  const status: ServerStatus = {
    state: r.state as ServerState,
    model: typeof r.model === 'string' ? r.model : '',
    device: typeof r.device === 'string' ? r.device : '',
  };
  if (typeof r.message === 'string' && r.message.length > 0) {
    status.message = r.message;
  }
  const adapter = parseActiveAdapter(r.adapter);
  if (adapter !== undefined) {
    status.adapter = adapter;
  }
  return status;
}

/** A malformed or unknown adapter is left out; the rest of the status still shows. */
export function parseActiveAdapter(raw: unknown): ActiveAdapter | undefined {
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (!ADAPTER_KINDS.includes(r.kind as AdapterKind)) {
    return undefined;
  }
  const adapter: ActiveAdapter = { kind: r.kind as AdapterKind };
  for (const key of ['path', 'version', 'base', 'extends'] as const) {
    const value = r[key];
    if (typeof value === 'string' && value.length > 0) {
      adapter[key] = value;
    }
  }
  if (typeof r.trained === 'boolean') {
    adapter.trained = r.trained;
  }
  return adapter;
}

const ADAPTER_LABELS: Record<AdapterKind, string> = {
  shipped: 'shipped adapter',
  project: 'project adapter',
  setting: 'adapter from settings',
  none: 'no adapter',
};

/** The short name the status bar text ends with. */
export function adapterLabel(adapter: ActiveAdapter): string {
  return ADAPTER_LABELS[adapter.kind];
}

function adapterLines(adapter: ActiveAdapter | undefined): string[] {
  if (adapter === undefined) {
    return [];
  }
  if (adapter.kind === 'none') {
    return ['Adapter: none (untrained heads: findings are not meaningful)'];
  }
  const origin =
    adapter.kind === 'project'
      ? 'project adapter (made by `manyskills adapt`' +
        (adapter.extends ? ` on top of shipped adapter ${adapter.extends})` : ')')
      : ADAPTER_LABELS[adapter.kind];
  const lines = [`Adapter: ${origin}${adapter.version ? `, version ${adapter.version}` : ''}`];
  if (adapter.trained === false) {
    lines.push('Adapter is untrained: findings are not meaningful');
  }
  if (adapter.base) {
    lines.push(`Adapter base: ${adapter.base}`);
  }
  if (adapter.path) {
    lines.push(`Adapter path: ${adapter.path}`);
  }
  return lines;
}

export interface StatusView {
  /** Status bar text (may contain `$(codicon)` references). */
  text: string;
  tooltip: string;
  /** Drives the status bar item's background color. */
  severity: 'normal' | 'warning' | 'error';
}

export interface StatusInput {
  phase: ClientPhase;
  server?: ServerStatus | undefined;
  /** Why the client failed or stopped (start error, crash). */
  error?: string | undefined;
}

const CLICK_HINT = 'Click to show the ManySkills output.';

function tooltipLines(...lines: (string | string[] | undefined)[]): string {
  return [...lines.flat().filter((l): l is string => l !== undefined && l.length > 0), CLICK_HINT].join('\n');
}

export function formatStatus(input: StatusInput): StatusView {
  const { phase, server } = input;
  switch (phase) {
    case 'failed':
      return {
        text: '$(error) ManySkills: error',
        tooltip: tooltipLines('The ManySkills server could not be started or has crashed.', input.error),
        severity: 'error',
      };
    case 'stopped':
      return {
        text: '$(circle-slash) ManySkills: stopped',
        tooltip: tooltipLines('The ManySkills server is not running.', input.error),
        severity: 'normal',
      };
    case 'starting':
      return {
        text: '$(sync~spin) ManySkills: starting…',
        tooltip: tooltipLines('Starting the ManySkills server.'),
        severity: 'normal',
      };
    case 'running':
      break;
  }
  const model = server?.model ? `Model: ${server.model}` : undefined;
  const device = server?.device ? `Device: ${server.device}` : undefined;
  switch (server?.state) {
    case undefined:
    case 'idle':
      return {
        text: '$(sync~spin) ManySkills: starting…',
        tooltip: tooltipLines('The ManySkills server is running; waiting for its status.'),
        severity: 'normal',
      };
    case 'loading':
      return {
        text: '$(sync~spin) ManySkills: loading model…',
        tooltip: tooltipLines('Loading the model.', model, device, server.message),
        severity: 'normal',
      };
    case 'ready': {
      const ready = server.device ? `$(check) ManySkills: ready (${server.device})` : '$(check) ManySkills: ready';
      return {
        text: server.adapter ? `${ready} · ${adapterLabel(server.adapter)}` : ready,
        tooltip: tooltipLines('ManySkills is ready.', model, device, adapterLines(server.adapter), server.message),
        severity: 'normal',
      };
    }
    case 'error':
      return {
        text: '$(error) ManySkills: error',
        tooltip: tooltipLines(
          'The ManySkills server reported an error.',
          server.message,
          model,
          device,
          adapterLines(server.adapter),
        ),
        severity: 'error',
      };
    case 'disabled':
      return {
        text: '$(circle-slash) ManySkills: disabled',
        tooltip: tooltipLines(
          'ManySkills analysis is disabled.',
          server.message,
          model,
          device,
          adapterLines(server.adapter),
        ),
        severity: 'warning',
      };
  }
}
