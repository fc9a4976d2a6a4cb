import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

/**
 * xterm.js in `container`, fitted to it. Copy: selecting copies (and Ctrl+Shift+C); paste:
 * the browser's paste (Ctrl+Shift+V or its menu; Ctrl+V stays the terminal's ^V).
 */
export function xtermView(
  container: HTMLElement,
  on: { input(data: string): void; resize(cols: number, rows: number): void },
): { terminal: Terminal; fit(): void; dispose(): void } {
  const terminal = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    scrollback: 10_000,
    theme: { background: '#111418' },
  });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.open(container);
  terminal.onData((d) => on.input(d));
  terminal.onResize(({ cols, rows }) => on.resize(cols, rows));
  terminal.onSelectionChange(() => {
    const text = terminal.getSelection();
    if (text) navigator.clipboard?.writeText(text).catch(() => undefined);
  });
  terminal.attachCustomKeyEventHandler((ev) => {
    if (ev.type === 'keydown' && ev.ctrlKey && ev.shiftKey && ev.code === 'KeyC') {
      navigator.clipboard?.writeText(terminal.getSelection()).catch(() => undefined);
      return false;
    }
    return true;
  });
  const refit = () => {
    try {
      fit.fit();
    } catch {
      // Not laid out yet (hidden): the next resize fits it.
    }
  };
  const observer = new ResizeObserver(refit);
  observer.observe(container);
  refit();
  return {
    terminal,
    fit: refit,
    dispose() {
      observer.disconnect();
      terminal.dispose();
    },
  };
}
