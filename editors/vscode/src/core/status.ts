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

/** Params of the `manyskills/status` notification. */
export interface ServerStatus {
  state: ServerState;
  model: string;
  device: string;
  message?: string;
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
  return status;
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

function tooltipLines(...lines: (string | undefined)[]): string {
  return [...lines.filter((l): l is string => l !== undefined && l.length > 0), CLICK_HINT].join('\n');
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
    case 'ready':
      return {
        text: server.device ? `$(check) ManySkills: ready (${server.device})` : '$(check) ManySkills: ready',
        tooltip: tooltipLines('ManySkills is ready.', model, device, server.message),
        severity: 'normal',
      };
    case 'error':
      return {
        text: '$(error) ManySkills: error',
        tooltip: tooltipLines('The ManySkills server reported an error.', server.message, model, device),
        severity: 'error',
      };
    case 'disabled':
      return {
        text: '$(circle-slash) ManySkills: disabled',
        tooltip: tooltipLines('ManySkills analysis is disabled.', server.message, model, device),
        severity: 'warning',
      };
  }
}
