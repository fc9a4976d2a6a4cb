import type { SessionInfo } from './sessions.js';

/** What a client asked for with its exec request. */
export type AgentCommand =
  | { kind: 'attach'; name: string }
  | { kind: 'sessions'; json: boolean }
  | { kind: 'kill'; name: string }
  | { kind: 'exec'; command: string };

/**
 * `attach [NAME]`, `sessions [--json]` and `kill NAME` are the agent's own;
 * anything else (including `kill 1234` or `kill -9 …`, the shell builtin) runs in the shell.
 */
export function parseCommand(command: string): AgentCommand {
  const argv = command.trim().split(/\s+/);
  // Every `attach …` is ours: a name with spaces is refused by name, not run by the shell.
  if (argv[0] === 'attach') return { kind: 'attach', name: argv.slice(1).join(' ') || 'main' };
  if (argv[0] === 'sessions' && argv.length === 1) return { kind: 'sessions', json: false };
  if (argv[0] === 'sessions' && argv.length === 2 && argv[1] === '--json')
    return { kind: 'sessions', json: true };
  if (argv[0] === 'kill' && argv.length === 2 && argv[1] && !/^(-|%|\d+$)/.test(argv[1]))
    return { kind: 'kill', name: argv[1] };
  return { kind: 'exec', command };
}

export function formatSessions(list: SessionInfo[]): string {
  if (list.length === 0) return 'no sessions\n';
  const rows = [['NAME', 'PID', 'CREATED', 'LAST ACTIVITY', 'SIZE', 'CLIENTS']];
  for (const s of list)
    rows.push([
      s.name,
      String(s.pid),
      s.created_at.slice(0, 19).replace('T', ' '),
      s.last_activity_at.slice(0, 19).replace('T', ' '),
      `${s.cols}x${s.rows}`,
      s.clients.map((c) => c.device_id).join(',') || '-',
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
