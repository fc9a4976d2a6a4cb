import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceSpec } from './driver.js';

/**
 * What the local driver keeps in a workspace's folder so that a hub started
 * again (after a crash, or with agents it left running) finds its agents: the
 * instance as created, minus what is secret or only needed to create it
 * (`agentEnv` holds the agent's token, which never reaches disk), and the pid
 * of the agent it started.
 */
export interface AgentRecord {
  spec: Omit<InstanceSpec, 'agentEnv' | 'userData'>;
  port: number;
  pid: number | null;
  /** The requestId of the create, so a retried create is recognised. */
  requestId: string;
}

const RECORD = 'instance.json';

export function writeAgentRecord(dir: string, record: AgentRecord): void {
  // Written whole, then renamed: a hub killed mid-write leaves the previous record.
  const tmp = join(dir, `${RECORD}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(tmp, join(dir, RECORD));
}

/** Every record under `workspacesDir`, with its folder; unreadable ones are skipped. */
export function readAgentRecords(
  workspacesDir: string,
): Array<{ dir: string; record: AgentRecord }> {
  if (!existsSync(workspacesDir)) return [];
  const out: Array<{ dir: string; record: AgentRecord }> = [];
  for (const name of readdirSync(workspacesDir)) {
    const dir = join(workspacesDir, name);
    try {
      out.push({ dir, record: JSON.parse(readFileSync(join(dir, RECORD), 'utf8')) });
    } catch {
      // No record (a folder from before records, or one being removed).
    }
  }
  return out;
}

/** Folders under `workspacesDir` with no record: no workspace's (kept, reported, never deleted). */
export function unrecordedFolders(workspacesDir: string): string[] {
  if (!existsSync(workspacesDir)) return [];
  return readdirSync(workspacesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !existsSync(join(workspacesDir, e.name, RECORD)))
    .map((e) => join(workspacesDir, e.name));
}

/**
 * The state of `pid` if it is still this workspace's agent: the same command
 * line (`/proc/PID/cmdline`) and WORKSPACE_ID in its environment, so a pid
 * reused by another process after a reboot is never taken for the agent.
 * `null`: gone (or a zombie), or someone else.
 */
export function agentProcessState(
  pid: number,
  command: readonly string[],
  workspaceId: string,
): 'running' | 'stopped' | null {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline !== `${command.join('\0')}\0`) return null;
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    if (!environ.includes(`WORKSPACE_ID=${workspaceId}`)) return null;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    if (state === 'Z' || state === 'X') return null;
    return state === 'T' ? 'stopped' : 'running';
  } catch {
    return null;
  }
}
