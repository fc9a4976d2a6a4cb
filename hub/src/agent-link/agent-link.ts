import type { ComputeDriver, HubConnectionKeyStore, Workspace } from '@workspace-hub/core';
import type ssh2 from 'ssh2';
import type { Logger } from '../log.js';
import { agentEndpoint } from './agent-address.js';
import type { AgentEndpoint } from './agent-connection.js';
import { type AgentLease, leaseOf } from './agent-lease.js';
import { AgentLinkError } from './agent-link-error.js';

/** The device the agent records for the hub's connections (`wsh sessions`, audit log). */
export const HUB_DEVICE_ID = 'browser';

export interface AgentUser {
  sub: string;
  email: string;
}

export interface AgentLinkDeps {
  driver: ComputeDriver;
  connectionKeys: HubConnectionKeyStore;
  log: Logger;
  now(): Date;
}

export interface AgentLinkOptions {
  /** How long a connection's public key is served to the agent (it is needed only to log in). */
  credentialTtlMs?: number;
  /** How long an unused connection stays pooled for the next socket of the same user. */
  poolIdleMs?: number;
  readyTimeoutMs?: number;
}

interface Pooled {
  key: string;
  client: Promise<ssh2.Client>;
  closed: boolean;
  leases: number;
  idle: NodeJS.Timeout | null;
}

/**
 * The hub's SSH connections to workspace agents, made for one user at a time: each connection
 * logs in with a key pair minted for it and registered for that user and workspace only (see
 * README.md), pins the agent's host key, and is pooled per (user, workspace) while used and for
 * `poolIdleMs` after. Correctness never depends on the pool: a dead connection is dropped and
 * the next lease makes a new one.
 */
export class AgentLink {
  private readonly pool = new Map<string, Pooled>();
  private readonly credentialTtlMs: number;
  private readonly poolIdleMs: number;
  private readonly readyTimeoutMs: number;

  constructor(
    private readonly deps: AgentLinkDeps,
    opts: AgentLinkOptions = {},
  ) {
    this.credentialTtlMs = opts.credentialTtlMs ?? 120_000;
    this.poolIdleMs = opts.poolIdleMs ?? 30_000;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  }

  /**
   * A lease on a connection to `ws`'s agent as `user`. The caller has authorized `user` for
   * `ws` (the owner or an admin). Throws AgentLinkError (`workspace_not_ready`,
   * `agent_unreachable`, `permission_denied`).
   */
  async lease(user: AgentUser, ws: Workspace): Promise<AgentLease> {
    if (ws.status !== 'READY' || !ws.agent)
      throw new AgentLinkError(
        'workspace_not_ready',
        `workspace ${ws.id} is ${ws.status}`,
        ws.status,
      );
    // A pooled connection to the same agent (port and host key) needs no address lookup.
    const key = [user.sub, ws.id, ws.agent.port, ws.agent.host_public_key].join('\n');
    let entry = this.pool.get(key);
    if (!entry || entry.closed) entry = this.connect(key, user, ws);
    entry.leases++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    const taken = entry;
    try {
      const client = await taken.client;
      return leaseOf(
        ws.id,
        client,
        () => taken.closed,
        () => this.release(taken),
      );
    } catch (err) {
      this.release(taken);
      throw err;
    }
  }

  /** Ends every pooled connection (hub shutdown). */
  close(): void {
    for (const entry of this.pool.values()) this.drop(entry);
  }

  private connect(key: string, user: AgentUser, ws: Workspace): Pooled {
    const entry: Pooled = { key, client: null as never, closed: false, leases: 0, idle: null };
    // In the pool at once, so concurrent leases share this connection while it is being made.
    entry.client = agentEndpoint(this.deps.driver, ws)
      .then((endpoint) => this.login(user, ws, endpoint))
      .then(
        (client) => {
          client.once('close', () => this.forget(entry));
          return client;
        },
        (err: unknown) => {
          this.forget(entry);
          throw err;
        },
      );
    // A rejection is the leaseholders' to see; this copy only keeps Node quiet.
    entry.client.catch(() => undefined);
    this.pool.set(key, entry);
    return entry;
  }

  /** Registers a fresh key for this user and workspace, logs in with it, then withdraws it. */
  private async login(user: AgentUser, ws: Workspace, endpoint: AgentEndpoint) {
    // ssh2 loads on first use: a hub serving only REST (and its cold start) never pays for it.
    const [{ mintConnectionKey }, { openAgentConnection }] = await Promise.all([
      import('./connection-key.js'),
      import('./agent-connection.js'),
    ]);
    const pair = mintConnectionKey();
    const registered = await this.deps.connectionKeys.register({
      workspace_id: ws.id,
      user_sub: user.sub,
      user_email: user.email,
      device_id: HUB_DEVICE_ID,
      public_key: pair.publicKey,
      expires_at: new Date(this.deps.now().getTime() + this.credentialTtlMs),
    });
    try {
      return await openAgentConnection(endpoint, {
        username: user.email,
        privateKey: pair.privateKey,
        readyTimeoutMs: this.readyTimeoutMs,
      });
    } finally {
      // Only the login needed it; the TTL policy would remove it later anyway.
      this.deps.connectionKeys.revoke(registered.id).catch((err: Error) => {
        this.deps.log.warn('could not withdraw a hub connection key', {
          workspace_id: ws.id,
          error: err.message,
        });
      });
    }
  }

  private release(entry: Pooled): void {
    entry.leases--;
    if (entry.leases > 0 || entry.closed) return;
    entry.idle = setTimeout(() => this.drop(entry), this.poolIdleMs);
    entry.idle.unref();
  }

  private drop(entry: Pooled): void {
    this.forget(entry);
    entry.client.then(
      (c) => c.end(),
      () => undefined,
    );
  }

  private forget(entry: Pooled): void {
    entry.closed = true;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    if (this.pool.get(entry.key) === entry) this.pool.delete(entry.key);
  }
}
