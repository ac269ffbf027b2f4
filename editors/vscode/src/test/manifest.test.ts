/**
 * Keeps package.json (what VS Code sees) consistent with the pure modules (what the code
 * uses), and checks that the pure modules stay free of `vscode`.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CLIENT_COMMANDS, serverCommandsToRegister } from '../core/commands';
import { CLIENT_LANGUAGE_IDS, DEFAULT_SETTINGS, DEVICES, SERVER_LANGUAGES, SERVER_SETTING_KEYS, SKILLS } from '../core/settings';

const root = path.resolve(__dirname, '..', '..');

interface Manifest {
  name: string;
  publisher: string;
  main: string;
  license: string;
  engines: { vscode: string };
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  contributes: {
    commands: { command: string; title: string }[];
    configuration: { properties: Record<string, { default?: unknown; enum?: string[]; items?: { enum?: string[] }; properties?: Record<string, { default: unknown }> }> };
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
const props = manifest.contributes.configuration.properties;

describe('package.json', () => {
  it('identity and entry point', () => {
    assert.equal(manifest.name, 'manyskills');
    assert.equal(manifest.publisher, 'manyskills');
    assert.equal(manifest.main, './out/extension.js');
    assert.equal(manifest.engines.vscode, '^1.90.0');
    assert.equal(manifest.license, 'Apache-2.0');
  });

  it('activates on the ten client languages', () => {
    assert.deepEqual(manifest.activationEvents, CLIENT_LANGUAGE_IDS.map((l) => `onLanguage:${l}`));
  });

  it('contributes exactly the commands the extension registers', () => {
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(), [...CLIENT_COMMANDS].sort());
  });

  it('configuration defaults match DEFAULT_SETTINGS', () => {
    for (const key of SERVER_SETTING_KEYS) {
      const prop = props[`manyskills.${key}`];
      assert.ok(prop, `manyskills.${key} missing`);
      assert.deepEqual(prop.default, DEFAULT_SETTINGS[key], `default of manyskills.${key}`);
    }
    for (const skill of SKILLS) {
      assert.equal(props['manyskills.skills']?.properties?.[skill]?.default, true);
    }
    assert.deepEqual(props['manyskills.device']?.enum, [...DEVICES]);
    assert.deepEqual(props['manyskills.languages']?.items?.enum, [...SERVER_LANGUAGES]);
  });

  it('has the client-only settings and nothing else', () => {
    const expected = [...SERVER_SETTING_KEYS, 'path', 'interpreter', 'trace.server'].map((k) => `manyskills.${k}`);
    assert.deepEqual(Object.keys(props).sort(), expected.sort());
    assert.equal(props['manyskills.path']?.default, null);
    assert.equal(props['manyskills.interpreter']?.default, null);
    assert.deepEqual(props['manyskills.trace.server']?.enum, ['off', 'messages', 'verbose']);
  });

  it('restricts executable-choosing settings in untrusted workspaces', () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of ['manyskills.path', 'manyskills.interpreter']) {
      assert.ok(restricted.includes(key), key);
    }
  });
});

describe('serverCommandsToRegister', () => {
  it('drops the command ids the extension owns', () => {
    assert.deepEqual(
      serverCommandsToRegister(['manyskills.scanWorkspace', 'manyskills.search', 'manyskills.explain']),
      ['manyskills.explain'],
    );
    assert.deepEqual(serverCommandsToRegister(undefined), []);
  });
});

describe('pure modules', () => {
  it('do not import vscode', () => {
    const dir = path.join(root, 'out', 'core');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js'));
    assert.ok(files.length >= 5);
    for (const f of files) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      assert.doesNotMatch(src, /require\(["']vscode["']\)/, f);
      assert.doesNotMatch(src, /require\(["']vscode-languageclient/, f);
    }
  });
});
