import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultInterpreter,
  describeServerCommand,
  needsPythonExtension,
  resolveServerCommand,
} from '../core/serverCommand';

const linux = { platform: 'linux' as const, home: '/home/u', workspaceFolder: '/ws' };

describe('resolveServerCommand', () => {
  it('uses manyskills.path first: <path> serve', () => {
    assert.deepEqual(
      resolveServerCommand({ ...linux, path: '/opt/bin/manyskills', interpreter: '/usr/bin/python3', pythonExtensionInterpreter: '/x/python' }),
      { command: '/opt/bin/manyskills', args: ['serve'], source: 'path' },
    );
  });

  it('then manyskills.interpreter: <interpreter> -m manyskills serve', () => {
    assert.deepEqual(
      resolveServerCommand({ ...linux, path: null, interpreter: '/usr/bin/python3.11', pythonExtensionInterpreter: '/x/python' }),
      { command: '/usr/bin/python3.11', args: ['-m', 'manyskills', 'serve'], source: 'interpreter' },
    );
  });

  it('then the Python extension interpreter', () => {
    assert.deepEqual(resolveServerCommand({ ...linux, path: '', interpreter: '  ', pythonExtensionInterpreter: '/ws/.venv/bin/python' }), {
      command: '/ws/.venv/bin/python',
      args: ['-m', 'manyskills', 'serve'],
      source: 'python-extension',
    });
  });

  it('then python3 (python on Windows)', () => {
    assert.deepEqual(resolveServerCommand({ ...linux }), { command: 'python3', args: ['-m', 'manyskills', 'serve'], source: 'default' });
    assert.equal(resolveServerCommand({ platform: 'win32' }).command, 'python');
    assert.equal(resolveServerCommand({ platform: 'darwin', pythonExtensionInterpreter: '' }).command, 'python3');
    assert.equal(defaultInterpreter('linux'), 'python3');
  });

  it('ignores non-string setting values', () => {
    assert.equal(resolveServerCommand({ ...linux, path: 42, interpreter: {} }).source, 'default');
  });

  it('expands ~ and workspace-relative paths in settings', () => {
    assert.equal(resolveServerCommand({ ...linux, path: '~/.local/bin/manyskills' }).command, '/home/u/.local/bin/manyskills');
    assert.equal(resolveServerCommand({ ...linux, interpreter: '.venv/bin/python' }).command, '/ws/.venv/bin/python');
    assert.equal(resolveServerCommand({ ...linux, interpreter: 'python3.12' }).command, 'python3.12');
  });

  it('returns fresh argument arrays', () => {
    const a = resolveServerCommand({ ...linux });
    a.args.push('--x');
    assert.deepEqual(resolveServerCommand({ ...linux }).args, ['-m', 'manyskills', 'serve']);
  });
});

describe('needsPythonExtension', () => {
  it('is true only when neither path nor interpreter is set', () => {
    assert.equal(needsPythonExtension({}), true);
    assert.equal(needsPythonExtension({ path: null, interpreter: ' ' }), true);
    assert.equal(needsPythonExtension({ path: '/x' }), false);
    assert.equal(needsPythonExtension({ interpreter: 'python3' }), false);
  });
});

describe('describeServerCommand', () => {
  it('prints a quoted command line and its origin', () => {
    assert.equal(
      describeServerCommand({ command: '/usr/bin/python3', args: ['-m', 'manyskills', 'serve'], source: 'default' }),
      '/usr/bin/python3 -m manyskills serve (from default interpreter)',
    );
    assert.equal(
      describeServerCommand({ command: '/My Tools/manyskills', args: ['serve'], source: 'path' }),
      '"/My Tools/manyskills" serve (from setting manyskills.path)',
    );
  });
});
