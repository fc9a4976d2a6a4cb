import { constants } from 'node:os';

/**
 * The SSH name of a signal that ended a process (RFC 4254: no "SIG" prefix,
 * e.g. 1 → "HUP"), from node-pty's signal numbers.
 */
export function sshSignalName(signal: number): string {
  const name = Object.entries(constants.signals).find(([, n]) => n === signal)?.[0];
  return name ? name.replace(/^SIG/, '') : 'KILL';
}
