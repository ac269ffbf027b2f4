import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus, parseActiveAdapter, parseServerStatus, type ActiveAdapter } from '../core/status';

const strip = (text: string) => text.replace(/^\$\([^)]*\)\s*/, '');

/** A project adapter as the server reports it (`manyskills adapt` on top of the shipped 0.1.0). */
const PROJECT_ADAPTER: ActiveAdapter = {
  kind: 'project',
  path: '/repo/.manyskills/adapter',
  version: '0.1.0+project',
  base: 'smollm2-135m',
  extends: '0.1.0',
  trained: true,
};

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

  it('keeps the active adapter the server reports', () => {
    const adapter = { ...PROJECT_ADAPTER };
    assert.deepEqual(parseServerStatus({ state: 'ready', model: 'm', device: 'cpu', message: '', adapter }), {
      state: 'ready',
      model: 'm',
      device: 'cpu',
      adapter,
    });
  });

  it('an old server without the adapter, or a malformed adapter, still gives a status', () => {
    const old = parseServerStatus({ state: 'ready', model: 'm', device: 'cpu' });
    assert.deepEqual(old, { state: 'ready', model: 'm', device: 'cpu' });
    for (const adapter of [null, 'project', 3, {}, { kind: 'remote' }, { kind: 1 }, []]) {
      const status = parseServerStatus({ state: 'ready', model: 'm', device: 'cpu', adapter });
      assert.deepEqual(status, { state: 'ready', model: 'm', device: 'cpu' }, JSON.stringify(adapter));
    }
  });

  it('drops adapter fields of the wrong type but keeps the kind', () => {
    assert.deepEqual(
      parseActiveAdapter({ kind: 'setting', path: 7, version: '', base: null, extends: ['x'], trained: 'yes' }),
      { kind: 'setting' },
    );
    assert.deepEqual(parseActiveAdapter({ kind: 'none', path: null, version: 'untrained', trained: false }), {
      kind: 'none',
      version: 'untrained',
      trained: false,
    });
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

  it('ready names the active adapter in the text and details it in the tooltip', () => {
    const ready = (adapter?: ActiveAdapter) =>
      formatStatus({
        phase: 'running',
        server: { state: 'ready', model: 'SmolLM2-135M-Instruct', device: 'cpu', adapter },
      });
    const project = ready(PROJECT_ADAPTER);
    assert.equal(strip(project.text), 'ManySkills: ready (cpu) · project adapter');
    assert.match(project.tooltip, /Model: SmolLM2-135M-Instruct/);
    assert.match(
      project.tooltip,
      /Adapter: project adapter \(made by `manyskills adapt` on top of shipped adapter 0\.1\.0\), version 0\.1\.0\+project/,
    );
    assert.match(project.tooltip, /Adapter base: smollm2-135m/);
    assert.match(project.tooltip, /Adapter path: \/repo\/\.manyskills\/adapter/);
    assert.equal(project.severity, 'normal');

    const shipped = ready({ kind: 'shipped', path: '/srv/models/smollm2-135m', version: '0.1.0', trained: true });
    assert.equal(strip(shipped.text), 'ManySkills: ready (cpu) · shipped adapter');
    assert.match(shipped.tooltip, /Adapter: shipped adapter, version 0\.1\.0\n/);
    assert.doesNotMatch(shipped.tooltip, /untrained|Adapter base/);

    const setting = ready({ kind: 'setting', path: '/a' });
    assert.equal(strip(setting.text), 'ManySkills: ready (cpu) · adapter from settings');
    const untrained = ready({ kind: 'setting', path: '/a', trained: false });
    assert.match(untrained.tooltip, /Adapter is untrained/);
    const none = ready({ kind: 'none', version: 'untrained', trained: false });
    assert.equal(strip(none.text), 'ManySkills: ready (cpu) · no adapter');
    assert.match(none.tooltip, /Adapter: none \(untrained heads/);

    // An old server: the text and tooltip are what they were.
    const old = ready();
    assert.equal(strip(old.text), 'ManySkills: ready (cpu)');
    assert.doesNotMatch(old.tooltip, /Adapter/);
  });

  it('the adapter is not shown before the server is running', () => {
    const adapter: ActiveAdapter = { kind: 'project', path: '/repo/.manyskills/adapter' };
    const view = formatStatus({ phase: 'starting', server: { state: 'ready', model: 'm', device: 'cpu', adapter } });
    assert.doesNotMatch(view.text + view.tooltip, /adapter/i);
  });

  it('uses codicons and a click hint', () => {
    assert.match(formatStatus({ phase: 'starting' }).text, /^\$\(sync~spin\) /);
    assert.match(formatStatus({ phase: 'starting' }).tooltip, /Click to show/);
  });
});
