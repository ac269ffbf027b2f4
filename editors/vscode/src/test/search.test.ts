import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayPath, formatScore, parseSearchResults, searchArguments, toQuickPickItems } from '../core/search';

const range = (l1: number, c1: number, l2: number, c2: number) => ({
  start: { line: l1, character: c1 },
  end: { line: l2, character: c2 },
});

describe('searchArguments', () => {
  it('is [query, 20] by default', () => {
    assert.deepEqual(searchArguments('  parse a date '), ['parse a date', 20]);
    assert.deepEqual(searchArguments('x', 5), ['x', 5]);
  });
});

describe('parseSearchResults', () => {
  it('returns [] for non-arrays', () => {
    for (const raw of [null, undefined, {}, 'x', 3]) {
      assert.deepEqual(parseSearchResults(raw), []);
    }
  });

  it('keeps well-formed entries sorted by descending score', () => {
    const raw = [
      { uri: 'file:///ws/a.py', range: range(1, 0, 5, 3), name: 'low', score: 0.2 },
      { uri: 'file:///ws/b.py', range: range(10, 4, 20, 0), name: 'high', score: 0.9, extra: true },
      { uri: 'file:///ws/c.py', range: range(0, 0, 1, 0), name: 'mid', score: 0.5 },
    ];
    const out = parseSearchResults(raw);
    assert.deepEqual(
      out.map((r) => r.name),
      ['high', 'mid', 'low'],
    );
    assert.deepEqual(out[0], { uri: 'file:///ws/b.py', range: range(10, 4, 20, 0), name: 'high', score: 0.9 });
  });

  it('drops malformed entries and tolerates a missing score or name', () => {
    const raw = [
      null,
      42,
      { uri: 'file:///ws/a.py', name: 'noRange', score: 1 },
      { uri: '', range: range(0, 0, 0, 1), name: 'emptyUri', score: 1 },
      { uri: 'file:///ws/a.py', range: { start: { line: -1, character: 0 }, end: { line: 0, character: 0 } }, name: 'neg', score: 1 },
      { uri: 'file:///ws/a.py', range: range(0, 0, 0, 1), name: 'noScore' },
      { uri: 'file:///ws/a.py', range: range(2, 0, 3, 1), score: 0.1 },
      { uri: 'file:///ws/a.py', range: range(4, 0, 5, 1), name: 'ok', score: 0.3 },
    ];
    const out = parseSearchResults(raw);
    assert.deepEqual(
      out.map((r) => r.name),
      ['ok', '<anonymous>', 'noScore'],
    );
    assert.ok(Number.isNaN(out[2]?.score));
  });

  it('keeps server order for equal scores', () => {
    const raw = ['a', 'b', 'c'].map((name) => ({ uri: `file:///${name}`, range: range(0, 0, 0, 0), name, score: 0.5 }));
    assert.deepEqual(
      parseSearchResults(raw).map((r) => r.name),
      ['a', 'b', 'c'],
    );
  });
});

describe('displayPath', () => {
  const one = [{ uri: 'file:///home/u/proj', name: 'proj' }];
  const two = [...one, { uri: 'file:///home/u/lib/', name: 'lib' }];

  it('is relative to the containing workspace folder', () => {
    assert.equal(displayPath('file:///home/u/proj/src/a%20b.py', one), 'src/a b.py');
    assert.equal(displayPath('file:///home/u/lib/x.rs', two), 'lib/x.rs');
    assert.equal(displayPath('file:///home/u/proj/y.go', two), 'proj/y.go');
  });

  it('does not match a folder that is only a name prefix', () => {
    assert.equal(displayPath('file:///home/u/project2/a.py', one), '/home/u/project2/a.py');
  });

  it('falls back to the decoded file path or the raw URI', () => {
    assert.equal(displayPath('file:///c%3A/src/a.ts'), 'c:/src/a.ts');
    assert.equal(displayPath('untitled:Untitled-1'), 'untitled:Untitled-1');
    assert.equal(displayPath('file:///bad%E0%A4%A.py'), '/bad%E0%A4%A.py');
  });
});

describe('toQuickPickItems', () => {
  it('builds label / description / detail and keeps the location', () => {
    const results = parseSearchResults([
      { uri: 'file:///ws/pkg/dates.py', range: range(41, 4, 60, 0), name: 'parse_iso_date', score: 0.87654 },
    ]);
    assert.deepEqual(toQuickPickItems(results, [{ uri: 'file:///ws', name: 'ws' }]), [
      {
        label: '$(symbol-function) parse_iso_date',
        description: 'pkg/dates.py:42',
        detail: 'score 0.877',
        uri: 'file:///ws/pkg/dates.py',
        range: range(41, 4, 60, 0),
      },
    ]);
  });

  it('formats missing scores', () => {
    assert.equal(formatScore(Number.NaN), 'score n/a');
    assert.equal(formatScore(1), 'score 1.000');
  });
});
