import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux build Node supports). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used so far, ms (user + system), and what its children it has waited
 * for used (`children`: an `sftp` run and the `ssh` it spawned, once both exited), from
 * /proc/PID/stat (proc(5): fields 14–17, counted after the command name's closing parenthesis).
 */
export function processCpuMs(pid: number | 'self'): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): field N is fields[N - 3].
  const ticks = (n: number) => Number(fields[n - 3]);
  const ms = (t: number) => (t * 1000) / TICKS_PER_SECOND;
  return { own: ms(ticks(14) + ticks(15)), children: ms(ticks(16) + ticks(17)) };
}

/** The pids whose parent is `pid` (the local driver's vm-agent is the hub's child). */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The command line of `pid`, words joined by spaces. */
export function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
}
