/**
 * `manyskills.scanWorkspace` result -> one-line summary.
 *
 * Pure logic: must not import `vscode`. The server's result shape is not fixed, so this
 * accepts null, a string, a number (files scanned) or an object of counts.
 */

export const SCAN_COMMAND = 'manyskills.scanWorkspace';

/** `filesScanned` -> `files scanned`, `max_file_bytes` -> `max file bytes`. */
export function humanizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim();
}

function formatScalar(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : value.toFixed(2);
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'boolean') {
    return value ? 'yes' : 'no';
  }
  return undefined;
}

const MAX_PARTS = 10;

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** LSP error codes meaning "the request was cancelled" (RequestCancelled, ServerCancelled). */
export function isCancellationCode(code: unknown): boolean {
  return code === -32800 || code === -32802;
}

export function formatScanSummary(result: unknown): string {
  const prefix = 'ManySkills: workspace scan complete';
  if (result === null || result === undefined) {
    return `${prefix}.`;
  }
  if (typeof result === 'string') {
    return result.trim().length > 0 ? `ManySkills: ${result.trim()}` : `${prefix}.`;
  }
  if (typeof result === 'number') {
    return `${prefix}: ${plural(result, 'file')} scanned.`;
  }
  if (typeof result !== 'object' || Array.isArray(result)) {
    return `${prefix}.`;
  }
  const obj = result as Record<string, unknown>;
  const { files, functions, findings } = obj;
  if (typeof files === 'number' && typeof functions === 'number' && typeof findings === 'number') {
    // The server's reply: {files, functions, findings}.
    return (
      `${prefix}: ${plural(files, 'file')} (${plural(functions, 'function')}) analysed, ` +
      `${plural(findings, 'finding')}.`
    );
  }
  if (typeof obj.message === 'string' && obj.message.trim().length > 0) {
    return `ManySkills: ${obj.message.trim()}`;
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const scalar = formatScalar(value);
    if (scalar !== undefined) {
      parts.push(`${humanizeKey(key)}: ${scalar}`);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const inner = Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => [k, formatScalar(v)] as const)
        .filter((kv): kv is readonly [string, string] => kv[1] !== undefined)
        .map(([k, v]) => `${humanizeKey(k)} ${v}`);
      if (inner.length > 0) {
        parts.push(`${humanizeKey(key)}: ${inner.join(', ')}`);
      }
    } else if (Array.isArray(value)) {
      parts.push(`${humanizeKey(key)}: ${value.length}`);
    }
    if (parts.length >= MAX_PARTS) {
      break;
    }
  }
  return parts.length > 0 ? `${prefix}: ${parts.join('; ')}.` : `${prefix}.`;
}
