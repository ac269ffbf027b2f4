import * as vscode from 'vscode';
import { COMMANDS } from './core/commands';
import { formatStatus, type StatusInput } from './core/status';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('manyskills.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'ManySkills';
    this.item.command = COMMANDS.showOutput;
    this.update({ phase: 'starting' });
    this.item.show();
  }

  update(input: StatusInput): void {
    const view = formatStatus(input);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
