import type { Workspace } from '@workspace-hub/core';
import type { SFTPWrapper } from 'ssh2';
import type { AgentLease, AgentLink, AgentUser } from '../agent-link/index.js';
import { allowAgentWrites } from './sftp-write-size.js';

/** How long an unused SFTP channel stays open for the user's next file request. */
const IDLE_MS = 20_000;

interface Channel {
  sftp: SFTPWrapper;
  users: number;
  idle: NodeJS.Timeout | null;
}

/**
 * SFTP channels kept open per (user, workspace agent) for a short while, on agent-link's pooled
 * connections: opening one costs the agent three round trips (channel, subsystem, version), which
 * every upload chunk and listing would otherwise pay. SFTP serves concurrent requests on one
 * channel. A channel that closes (connection lost, agent gone) is forgotten; correctness never
 * depends on this cache.
 */
export class SftpChannels {
  private readonly open = new Map<string, Promise<Channel>>();

  constructor(private readonly link: AgentLink) {}

  /** A channel for `user` on `ws`'s agent, and the function that gives it back. */
  async take(user: AgentUser, ws: Workspace): Promise<{ sftp: SFTPWrapper; give: () => void }> {
    // The agent's identity and start are part of the key: a restarted agent gets new channels.
    const key = [user.sub, ws.id, ws.agent?.port, ws.agent?.host_public_key, ws.agent?.ready_at]
      .map(String)
      .join('\n');
    let pending = this.open.get(key);
    if (!pending) {
      pending = this.start(key, user, ws);
      this.open.set(key, pending);
      pending.catch(() => this.open.delete(key));
    }
    const channel = await pending;
    channel.users++;
    if (channel.idle) clearTimeout(channel.idle);
    channel.idle = null;
    let given = false;
    return {
      sftp: channel.sftp,
      give: () => {
        if (given) return;
        given = true;
        if (--channel.users > 0) return;
        channel.idle = setTimeout(() => channel.sftp.end(), IDLE_MS);
        channel.idle.unref();
      },
    };
  }

  private async start(key: string, user: AgentUser, ws: Workspace): Promise<Channel> {
    const lease: AgentLease = await this.link.lease(user, ws);
    try {
      const sftp = await lease.sftp();
      allowAgentWrites(sftp);
      const channel: Channel = { sftp, users: 0, idle: null };
      sftp.once('close', () => {
        if (channel.idle) clearTimeout(channel.idle);
        this.open.delete(key);
        lease.release();
      });
      return channel;
    } catch (err) {
      lease.release();
      throw err;
    }
  }
}
