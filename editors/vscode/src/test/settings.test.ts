import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SETTINGS,
  SERVER_SETTING_KEYS,
  expandPath,
  restartRequiredBy,
  toServerSettings,
} from '../core/settings';

describe('toServerSettings', () => {
  const defaults = () => ({ ...DEFAULT_SETTINGS, skills: { ...DEFAULT_SETTINGS.skills }, languages: [...DEFAULT_SETTINGS.languages] });

  it('returns the defaults for undefined / non-object input', () => {
    for (const raw of [undefined, null, 42, 'x', []]) {
      assert.deepEqual(toServerSettings(raw), defaults());
    }
  });

  it('drops the client-only keys (the server warns about unknown keys)', () => {
    const s = toServerSettings({
      ...defaults(),
      path: '/x/manyskills',
      interpreter: 'py',
      trace: { server: 'verbose' },
      threshold: 0.7,
    });
    assert.deepEqual(Object.keys(s).sort(), [...SERVER_SETTING_KEYS].sort());
    assert.equal(s.threshold, 0.7);
  });

  it('fills missing keys with the defaults', () => {
    assert.deepEqual(toServerSettings({ device: 'cpu' }), { ...defaults(), device: 'cpu' });
  });

  it('passes valid values through', () => {
    const raw = {
      threshold: 0.25,
      flakyThreshold: 0.6,
      skills: { defect: false, review: true, clone: false, search: true, flaky: false },
      device: 'cuda',
      model: '/models/base',
      adapter: '/models/lora',
      projectAdapter: 'off',
      debounceMs: 50,
      maxFileBytes: 2048,
      languages: ['python', 'rust'],
      cloneThreshold: 0.9,
      cacheSize: 1000,
    };
    assert.deepEqual(toServerSettings(raw), raw);
  });

  it('passes invalid and unknown values through for the server to report', () => {
    const raw = { threshold: 1.5, device: 'tpu', languages: ['cobol'], debounceMs: -1, model: 3, futureSetting: true };
    assert.deepEqual(toServerSettings(raw), { ...defaults(), ...raw });
  });

  it('maps empty model/adapter to null and expands paths', () => {
    assert.equal(toServerSettings({ model: '' }).model, null);
    assert.equal(toServerSettings({ adapter: '   ' }).adapter, null);
    assert.equal(toServerSettings({ model: null }).model, null);
    const s = toServerSettings(
      { model: '~/models/base', adapter: '${workspaceFolder}/lora' },
      { home: '/home/u', workspaceFolder: '/ws', platform: 'linux' },
    );
    assert.equal(s.model, '/home/u/models/base');
    assert.equal(s.adapter, '/ws/lora');
    const rel = toServerSettings({ model: 'models/base' }, { workspaceFolder: '/ws', platform: 'linux' });
    assert.equal(rel.model, '/ws/models/base');
  });

  it('passes projectAdapter auto/off through and expands a directory', () => {
    assert.equal(toServerSettings({}).projectAdapter, 'auto');
    assert.equal(toServerSettings({ projectAdapter: 'off' }).projectAdapter, 'off');
    assert.equal(toServerSettings({ projectAdapter: '  ' }).projectAdapter, 'auto');
    const s = toServerSettings({ projectAdapter: '${workspaceFolder}/.manyskills/adapter' }, { workspaceFolder: '/ws', platform: 'linux' });
    assert.equal(s.projectAdapter, '/ws/.manyskills/adapter');
    assert.equal(toServerSettings({ projectAdapter: 3 }).projectAdapter, 3);
  });

  it('does not share the defaults objects', () => {
    const s = toServerSettings(undefined);
    (s.skills as Record<string, boolean>).defect = false;
    (s.languages as string[]).push('cobol');
    assert.equal(DEFAULT_SETTINGS.skills.defect, true);
    assert.equal(DEFAULT_SETTINGS.languages.includes('cobol'), false);
  });
});

describe('expandPath', () => {
  const ctx = { home: '/home/u', workspaceFolder: '/ws', env: { VENV: '/opt/venv' }, platform: 'linux' as const };

  it('expands ~, ${userHome}, ${workspaceFolder} and ${env:…}', () => {
    assert.equal(expandPath('~', ctx), '/home/u');
    assert.equal(expandPath('~/bin/manyskills', ctx), '/home/u/bin/manyskills');
    assert.equal(expandPath('${userHome}/x', ctx), '/home/u/x');
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', ctx), '/ws/.venv/bin/python');
    assert.equal(expandPath('${env:VENV}/bin/python', ctx), '/opt/venv/bin/python');
    assert.equal(expandPath('${env:MISSING}python3', ctx), 'python3');
  });

  it('resolves relative paths with a separator against the workspace folder', () => {
    assert.equal(expandPath('.venv/bin/python', ctx), '/ws/.venv/bin/python');
    assert.equal(expandPath('./manyskills', ctx), '/ws/manyskills');
  });

  it('leaves bare command names and absolute paths alone', () => {
    assert.equal(expandPath('python3', ctx), 'python3');
    assert.equal(expandPath('  /usr/bin/python3 ', ctx), '/usr/bin/python3');
  });

  it('leaves ${workspaceFolder} when there is no folder', () => {
    assert.equal(expandPath('${workspaceFolder}/x', { platform: 'linux' }), '${workspaceFolder}/x');
    assert.equal(expandPath('.venv/bin/python', { platform: 'linux' }), '.venv/bin/python');
  });

  it('handles Windows paths', () => {
    const w = { home: 'C:\\Users\\u', workspaceFolder: 'C:\\ws', platform: 'win32' as const };
    assert.equal(expandPath('.venv\\Scripts\\python.exe', w), 'C:\\ws\\.venv\\Scripts\\python.exe');
    assert.equal(expandPath('~\\bin\\manyskills.exe', w), 'C:\\Users\\u\\bin\\manyskills.exe');
    assert.equal(expandPath('D:\\py\\python.exe', w), 'D:\\py\\python.exe');
    assert.equal(expandPath('python', w), 'python');
  });
});

describe('restartRequiredBy', () => {
  it('reports only path and interpreter changes', () => {
    assert.deepEqual(restartRequiredBy((k) => k === 'manyskills.path'), ['manyskills.path']);
    assert.deepEqual(restartRequiredBy((k) => k.startsWith('manyskills')), ['manyskills.path', 'manyskills.interpreter']);
    assert.deepEqual(restartRequiredBy((k) => k === 'manyskills.threshold'), []);
    assert.deepEqual(restartRequiredBy(() => false), []);
  });
});
