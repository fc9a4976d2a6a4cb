import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Workspace } from '@workspace-hub/api';
import { writePrivateFile } from './config.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

const run = promisify(execFile);

/**
 * The `Host` alias and known_hosts name (`HostKeyAlias`) of a workspace: by
 * id, so a rename keeps the pinned host key.
 */
export function hostAlias(ws: Pick<Workspace, 'id'>): string {
  return `wsh-${ws.id}`;
}

/**
 * The alias `wsh config-ssh` writes for the workspace's name, beside its id
 * alias. Names never look like ids, so the two never collide.
 */
export function nameAlias(ws: Pick<Workspace, 'name'>): string {
  return `wsh-${ws.name}`;
}

/** OpenSSH's `SHA256:…` fingerprint of a `type base64` public key line. */
export function fingerprintOfKeyLine(line: string): string {
  const blob = Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The workspace's host key, trusted only because the hub vouches for it: the
 * key the agent reported, or a scanned key whose fingerprint the agent reported.
 */
export async function verifiedHostKey(
  ws: Workspace,
  scan: () => Promise<{ host: string; port: number; close?: () => Promise<void> }>,
): Promise<string> {
  const agent = ws.agent;
  if (!agent) throw new CliError(`${ws.id}: its agent has not reported yet (status ${ws.status})`);
  const expected = agent.host_key_fingerprint;
  if (agent.host_public_key) {
    const line = agent.host_public_key.trim().split(/\s+/).slice(0, 2).join(' ');
    if (fingerprintOfKeyLine(line) !== expected)
      throw new CliError(`${ws.id}: the hub's host key does not match its fingerprint ${expected}`);
    return line;
  }
  const target = await scan();
  try {
    const { stdout } = await run('ssh-keyscan', ['-p', String(target.port), target.host], {
      timeout: 15_000,
    }).catch(() => ({ stdout: '' }));
    for (const raw of stdout.split('\n')) {
      if (!raw || raw.startsWith('#')) continue;
      const line = raw.split(/\s+/).slice(1, 3).join(' ');
      if (fingerprintOfKeyLine(line) === expected) return line;
    }
  } finally {
    await target.close?.();
  }
  throw new CliError(
    `${ws.id}: no host key of the agent matches the fingerprint the hub recorded (${expected}); not connecting`,
  );
}

/** Puts `alias keyLine` in a wsh-managed known_hosts file, replacing older keys of that alias. */
export function pinHostKey(path: string, alias: string, keyLine: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
  const kept = old.filter((l) => l && l.split(' ')[0] !== alias);
  writePrivateFile(path, `${[...kept, `${alias} ${keyLine}`].join('\n')}\n`);
}

export function knownHostsPath(ctx: Pick<CliContext, 'config'>): string {
  return ctx.config.path('known_hosts');
}
