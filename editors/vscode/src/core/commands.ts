/**
 * Command ids.
 *
 * Pure logic: must not import `vscode`.
 */

export const COMMANDS = {
  restartServer: 'manyskills.restartServer',
  scanWorkspace: 'manyskills.scanWorkspace',
  search: 'manyskills.search',
  showOutput: 'manyskills.showOutput',
} as const;

/** The VS Code commands this extension registers itself. */
export const CLIENT_COMMANDS: readonly string[] = Object.values(COMMANDS);

/**
 * vscode-languageclient registers a VS Code command for every command in the server's
 * `executeCommandProvider.commands`. The server advertises `manyskills.scanWorkspace` and
 * `manyskills.search`, which are also this extension's own command ids, and a duplicate
 * registration would fail the client's initialization. Drop those; the extension sends
 * the `workspace/executeCommand` requests itself.
 */
export function serverCommandsToRegister(serverCommands: readonly string[] | undefined): string[] {
  return (serverCommands ?? []).filter((c) => !CLIENT_COMMANDS.includes(c));
}
