import type { Workspace } from '@workspace-hub/api';
import type { CliContext } from './context.js';

/** Prints `data` as JSON with `--json`, else the human text. */
export function emit(ctx: Pick<CliContext, 'json'>, data: unknown, human: string): void {
  process.stdout.write(
    ctx.json
      ? `${JSON.stringify(data, null, 2)}\n`
      : human.endsWith('\n') || !human
        ? human
        : `${human}\n`,
  );
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function workspaceLine(ws: Workspace): string {
  const reason = ws.status_reason ? ` (${ws.status_reason})` : '';
  return `${ws.name}  ${ws.id}  ${ws.status}${reason}`;
}

export function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
