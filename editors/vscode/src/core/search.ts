/**
 * `manyskills.search` results -> QuickPick items.
 *
 * Pure logic: must not import `vscode`.
 */

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** One element of the array the server returns for `manyskills.search`. */
export interface SearchResult {
  uri: string;
  range: LspRange;
  name: string;
  score: number;
}

/** Shaped like vscode.QuickPickItem, plus the location to open. */
export interface SearchPickItem {
  label: string;
  description: string;
  detail: string;
  uri: string;
  range: LspRange;
}

export const SEARCH_COMMAND = 'manyskills.search';
export const DEFAULT_SEARCH_LIMIT = 20;

/** Arguments of the `workspace/executeCommand` request for a query. */
export function searchArguments(query: string, limit: number = DEFAULT_SEARCH_LIMIT): [string, number] {
  return [query.trim(), limit];
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isPosition(value: unknown): value is LspPosition {
  const v = value as Partial<LspPosition> | null;
  return typeof v === 'object' && v !== null && isNonNegativeInt(v.line) && isNonNegativeInt(v.character);
}

function isRange(value: unknown): value is LspRange {
  const v = value as Partial<LspRange> | null;
  return typeof v === 'object' && v !== null && isPosition(v.start) && isPosition(v.end);
}

/**
 * Validates the server's reply. Malformed entries are dropped; a missing or non-finite score
 * becomes NaN (kept, sorted last). The result is sorted by descending score (stable).
 */
export function parseSearchResults(raw: unknown): SearchResult[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  const out: SearchResult[] = [];
  for (const entry of raw as unknown[]) {
    if (typeof entry !== 'object' || entry === null) {
      continue;
    }
    const e = entry as Record<string, unknown>;
    if (typeof e.uri !== 'string' || e.uri.length === 0 || !isRange(e.range)) {
      continue;
    }
    const score = typeof e.score === 'number' && Number.isFinite(e.score) ? e.score : Number.NaN;
    const name = typeof e.name === 'string' && e.name.trim().length > 0 ? e.name : '<anonymous>';
    out.push({
      uri: e.uri,
      range: { start: { ...e.range.start }, end: { ...e.range.end } },
      name,
      score,
    });
  }
  const key = (s: number): number => (Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s);
  return out
    .map((r, i) => ({ r, i }))
    .sort((a, b) => key(b.r.score) - key(a.r.score) || a.i - b.i)
    .map(({ r }) => r);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A short, human-readable location for a URI: relative to the workspace folder that
 * contains it (prefixed with the folder name when there are several folders), else the
 * decoded path of a file URI, else the URI itself.
 */
export function displayPath(uri: string, workspaceFolders: readonly { uri: string; name: string }[] = []): string {
  for (const folder of workspaceFolders) {
    const base = folder.uri.endsWith('/') ? folder.uri : `${folder.uri}/`;
    if (uri.startsWith(base)) {
      const rel = safeDecode(uri.slice(base.length));
      return workspaceFolders.length > 1 ? `${folder.name}/${rel}` : rel;
    }
  }
  if (uri.startsWith('file://')) {
    let p = safeDecode(uri.slice('file://'.length));
    // file:///c%3A/x -> /c:/x -> c:/x
    if (/^\/[A-Za-z]:/.test(p)) {
      p = p.slice(1);
    }
    return p;
  }
  return uri;
}

export function formatScore(score: number): string {
  return Number.isNaN(score) ? 'score n/a' : `score ${score.toFixed(3)}`;
}

export function toQuickPickItems(
  results: readonly SearchResult[],
  workspaceFolders: readonly { uri: string; name: string }[] = [],
): SearchPickItem[] {
  return results.map((r) => ({
    label: `$(symbol-function) ${r.name}`,
    description: `${displayPath(r.uri, workspaceFolders)}:${r.range.start.line + 1}`,
    detail: formatScore(r.score),
    uri: r.uri,
    range: r.range,
  }));
}
