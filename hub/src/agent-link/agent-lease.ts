import { type TerminalSessionInfo, TerminalSessions } from '@workspace-hub/core';
import type ssh2 from 'ssh2';
import { AgentLinkError } from './agent-link-error.js';

export interface TerminalSize {
  cols: number;
  rows: number;
}

/**
 * A use of a pooled SSH connection to one workspace's agent as one user. Every channel it opens
 * is what `ssh` would open: the agent applies the same sessions, SFTP confinement and audit.
 * `release()` once done (channels still open keep working until they end).
 */
export interface AgentLease {
  readonly workspaceId: string;
  /** A pty channel attached to session `name` (`attach NAME`), created when missing. */
  attach(name: string, size: TerminalSize): Promise<ssh2.ClientChannel>;
  /** The workspace's sessions (`sessions --json`). */
  sessions(): Promise<TerminalSessionInfo[]>;
  /** The SFTP subsystem, rooted at the workspace home. */
  sftp(): Promise<ssh2.SFTPWrapper>;
  /** Called once when the connection ends (its channels end with it). */
  onClose(listener: () => void): void;
  release(): void;
}

export function leaseOf(
  workspaceId: string,
  client: ssh2.Client,
  closed: () => boolean,
  release: () => void,
): AgentLease {
  let released = false;
  const lost = (err: Error) =>
    new AgentLinkError(
      'connection_lost',
      `the connection to the agent failed: ${err.message}`,
      undefined,
      {
        cause: err,
      },
    );
  const open = <T>(start: (cb: (err: Error | undefined, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      if (closed()) return reject(lost(new Error('closed')));
      start((err, value) => (err ? reject(lost(err)) : resolve(value)));
    });
  return {
    workspaceId,
    attach: (name, size) =>
      open<ssh2.ClientChannel>((cb) =>
        client.exec(`attach ${name}`, { pty: { ...size, term: 'xterm-256color' } }, cb),
      ),
    async sessions() {
      const channel = await open<ssh2.ClientChannel>((cb) => client.exec('sessions --json', cb));
      const chunks: Buffer[] = [];
      channel.on('data', (d: Buffer) => chunks.push(d));
      await new Promise((resolve) => channel.once('close', resolve));
      const text = Buffer.concat(chunks).toString('utf8');
      const parsed = TerminalSessions.omit({ type: true }).safeParse(safeJson(text));
      if (!parsed.success)
        throw lost(new Error('the agent answered `sessions --json` with something else'));
      return parsed.data.sessions;
    },
    sftp: () => open<ssh2.SFTPWrapper>((cb) => client.sftp(cb)),
    onClose(listener) {
      if (closed()) queueMicrotask(listener);
      else client.once('close', listener);
    },
    release() {
      if (released) return;
      released = true;
      release();
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
