import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatScanSummary, humanizeKey, isCancellationCode } from '../core/scan';

describe('formatScanSummary', () => {
  it('handles empty results', () => {
    assert.equal(formatScanSummary(null), 'ManySkills: workspace scan complete.');
    assert.equal(formatScanSummary(undefined), 'ManySkills: workspace scan complete.');
    assert.equal(formatScanSummary(''), 'ManySkills: workspace scan complete.');
    assert.equal(formatScanSummary({}), 'ManySkills: workspace scan complete.');
    assert.equal(formatScanSummary(true), 'ManySkills: workspace scan complete.');
  });

  it('uses a string or a message field as-is', () => {
    assert.equal(formatScanSummary('Scanned 3 files'), 'ManySkills: Scanned 3 files');
    assert.equal(formatScanSummary({ message: 'Scanned 3 files', files: 3 }), 'ManySkills: Scanned 3 files');
  });

  it('treats a number as files scanned', () => {
    assert.equal(formatScanSummary(1), 'ManySkills: workspace scan complete: 1 file scanned.');
    assert.equal(formatScanSummary(12), 'ManySkills: workspace scan complete: 12 files scanned.');
  });

  it("formats the server's {files, functions, findings} reply", () => {
    assert.equal(
      formatScanSummary({ files: 12, functions: 340, findings: 5 }),
      'ManySkills: workspace scan complete: 12 files (340 functions) analysed, 5 findings.',
    );
    assert.equal(
      formatScanSummary({ files: 1, functions: 1, findings: 1 }),
      'ManySkills: workspace scan complete: 1 file (1 function) analysed, 1 finding.',
    );
  });

  it('summarises other objects of counts', () => {
    assert.equal(
      formatScanSummary({
        files: 12,
        functions: 340,
        elapsedSeconds: 3.14159,
        findings: { defect: 2, review: 5, nested: { x: 1 } },
        skipped: ['a', 'b'],
        cancelled: false,
      }),
      'ManySkills: workspace scan complete: files: 12; functions: 340; elapsed seconds: 3.14; ' +
        'findings: defect 2, review 5; skipped: 2; cancelled: no.',
    );
  });

  it('caps the number of parts', () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    assert.equal(formatScanSummary(many).split(';').length, 10);
  });
});

describe('isCancellationCode', () => {
  it('recognises RequestCancelled and ServerCancelled', () => {
    assert.equal(isCancellationCode(-32800), true);
    assert.equal(isCancellationCode(-32802), true);
    assert.equal(isCancellationCode(-32603), false);
    assert.equal(isCancellationCode(undefined), false);
  });
});

describe('humanizeKey', () => {
  it('splits camelCase and snake_case', () => {
    assert.equal(humanizeKey('filesScanned'), 'files scanned');
    assert.equal(humanizeKey('max_file_bytes'), 'max file bytes');
    assert.equal(humanizeKey('cloneThreshold95'), 'clone threshold95');
  });
});
