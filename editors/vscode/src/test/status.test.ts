import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus, parseServerStatus } from '../core/status';

const strip = (text: string) => text.replace(/^\$\([^)]*\)\s*/, '');

describe('parseServerStatus', () => {
  it('accepts the server states', () => {
    for (const state of ['idle', 'loading', 'ready', 'error', 'disabled']) {
      assert.deepEqual(parseServerStatus({ state, model: 'm', device: 'cpu' }), { state, model: 'm', device: 'cpu' });
    }
  });

  it('keeps a non-empty message and defaults missing strings', () => {
    assert.deepEqual(parseServerStatus({ state: 'error', message: 'CUDA OOM' }), {
      state: 'error',
      model: '',
      device: '',
      message: 'CUDA OOM',
    });
    assert.equal(parseServerStatus({ state: 'ready', model: 'm', device: 'cpu', message: '' })?.message, undefined);
    // The server sends message "" or null when there is nothing to say.
    assert.equal(parseServerStatus({ state: 'ready', model: 'm', device: 'cpu', message: null })?.message, undefined);
  });

  it('rejects malformed params', () => {
    for (const raw of [null, undefined, 'ready', {}, { state: 'busy' }, { state: 1 }]) {
      assert.equal(parseServerStatus(raw), undefined);
    }
  });
});

describe('formatStatus', () => {
  it('client phases', () => {
    assert.equal(strip(formatStatus({ phase: 'starting' }).text), 'ManySkills: starting…');
    assert.equal(strip(formatStatus({ phase: 'stopped' }).text), 'ManySkills: stopped');
    const failed = formatStatus({ phase: 'failed', error: 'spawn python3 ENOENT' });
    assert.equal(strip(failed.text), 'ManySkills: error');
    assert.equal(failed.severity, 'error');
    assert.match(failed.tooltip, /spawn python3 ENOENT/);
  });

  it('running without a server status yet (or idle) is still starting', () => {
    assert.equal(strip(formatStatus({ phase: 'running' }).text), 'ManySkills: starting…');
    assert.equal(
      strip(formatStatus({ phase: 'running', server: { state: 'idle', model: '', device: '' } }).text),
      'ManySkills: starting…',
    );
  });

  it('server states', () => {
    const status = (state: 'loading' | 'ready' | 'error' | 'disabled', extra = {}) =>
      formatStatus({ phase: 'running', server: { state, model: 'Qwen2.5-Coder-0.5B', device: 'cuda', ...extra } });
    assert.equal(strip(status('loading').text), 'ManySkills: loading model…');
    const ready = status('ready');
    assert.equal(strip(ready.text), 'ManySkills: ready (cuda)');
    assert.equal(ready.severity, 'normal');
    assert.match(ready.tooltip, /Model: Qwen2\.5-Coder-0\.5B/);
    assert.match(ready.tooltip, /Device: cuda/);
    const error = status('error', { message: 'adapter not found' });
    assert.equal(strip(error.text), 'ManySkills: error');
    assert.equal(error.severity, 'error');
    assert.match(error.tooltip, /adapter not found/);
    const disabled = status('disabled');
    assert.equal(strip(disabled.text), 'ManySkills: disabled');
    assert.equal(disabled.severity, 'warning');
  });

  it('ready without a device', () => {
    assert.equal(
      strip(formatStatus({ phase: 'running', server: { state: 'ready', model: 'm', device: '' } }).text),
      'ManySkills: ready',
    );
  });

  it('a stale server status is not shown while (re)starting', () => {
    const view = formatStatus({ phase: 'starting', server: { state: 'ready', model: 'm', device: 'cpu' } });
    assert.equal(strip(view.text), 'ManySkills: starting…');
  });

  it('uses codicons and a click hint', () => {
    assert.match(formatStatus({ phase: 'starting' }).text, /^\$\(sync~spin\) /);
    assert.match(formatStatus({ phase: 'starting' }).tooltip, /Click to show/);
  });
});
