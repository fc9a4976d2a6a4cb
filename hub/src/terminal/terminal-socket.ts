import {
  STALLED_ATTACHMENT_SIGNAL,
  TERMINAL_CLOSE_CODES,
  TerminalClientMessage,
  type TerminalClientMessageParsed,
  type TerminalErrorCode,
  type TerminalServerMessage,
  type Workspace,
  type WorkspaceStatus,
} from '@workspace-hub/core';
import type { ClientChannel } from 'ssh2';
import type { WebSocket } from 'ws';
import { type AgentLease, AgentLinkError, type AgentUser } from '../agent-link/index.js';
import type { HubDeps } from '../deps.js';
import type { Logger } from '../log.js';
import { canSee } from '../routes/access.js';
import type { AcceptedUpgrade } from './terminal-upgrade.js';

/** Output the hub holds for a slow browser before it stops reading the session (then SSH's window fills and the agent pauses the pty). */
export const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
/** Keystrokes typed while an attach is under way are held (bounded) and sent once it is. */
const PENDING_INPUT_LIMIT = 64 * 1024;
const DEFAULT_SIZE = { cols: 80, rows: 24 };

type Deps = Pick<HubDeps, 'store' | 'agentLink'> & { log: Logger };

class TerminalProblem extends Error {
  constructor(
    readonly code: TerminalErrorCode,
    message: string,
    readonly extra: { status?: WorkspaceStatus; field?: string } = {},
  ) {
    super(message);
  }
}

/**
 * One browser terminal socket: the protocol of api/src/terminal.ts over a lease on the hub's
 * SSH connection to the workspace's agent, attached to at most one session at a time.
 */
export class TerminalSocket {
  private lease: Promise<AgentLease> | null = null;
  private channel: ClientChannel | null = null;
  private size = DEFAULT_SIZE;
  /** Attach and list run one at a time, in the order they came. */
  private queue: Promise<void> = Promise.resolve();
  private attaching = 0;
  private pendingInput: Buffer[] = [];
  private pendingBytes = 0;
  private paused = false;
  private closed = false;
  private readonly user: AgentUser;
  private upgradeRead: Workspace | null;

  constructor(
    private readonly ws: WebSocket,
    private readonly grant: AcceptedUpgrade,
    private readonly deps: Deps,
  ) {
    this.user = { sub: grant.identity.sub, email: grant.identity.email };
    this.upgradeRead = grant.workspace;
    ws.on('message', (data: Buffer, isBinary) => this.onFrame(data, isBinary));
    ws.on('close', () => this.onClose());
    // Connecting to the agent takes the longest: start while the page sends its attach.
    this.leaseNow().catch(() => undefined);
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.input(data);
      return;
    }
    const msg = parseFrame(data);
    if (msg instanceof TerminalProblem) {
      this.sendError(msg);
      return;
    }
    switch (msg.type) {
      case 'input':
        this.input(Buffer.from(msg.data, 'utf8'));
        break;
      case 'resize':
        this.size = { cols: msg.cols, rows: msg.rows };
        this.channel?.setWindow(msg.rows, msg.cols, 0, 0);
        break;
      case 'ping':
        this.send({ type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}) });
        break;
      case 'list':
        this.serially(async () => {
          const lease = await this.leaseNow();
          this.send({ type: 'sessions', sessions: await lease.sessions() });
        });
        break;
      case 'attach':
        this.attaching++;
        this.serially(
          () => this.attach(msg),
          () => this.attaching--,
        );
        break;
    }
  }

  private input(data: Buffer): void {
    if (this.channel) {
      this.channel.write(data);
      return;
    }
    if (this.attaching > 0 && this.pendingBytes + data.length <= PENDING_INPUT_LIMIT) {
      this.pendingInput.push(data);
      this.pendingBytes += data.length;
      return;
    }
    this.sendError(
      new TerminalProblem('bad_message', 'input: attach to a session first', {
        field: 'input',
      }),
    );
  }

  private async attach(msg: Extract<TerminalClientMessageParsed, { type: 'attach' }>) {
    this.detach();
    const lease = await this.leaseNow();
    if (!msg.create && !(await lease.sessions()).some((s) => s.name === msg.session))
      throw new TerminalProblem('session_not_found', `no session named ${msg.session}`);
    if (msg.cols && msg.rows) this.size = { cols: msg.cols, rows: msg.rows };
    const channel = await lease.attach(msg.session, this.size);
    if (this.closed) {
      channel.close();
      return;
    }
    this.channel = channel;
    this.send({ type: 'attached', session: msg.session });
    this.pipe(channel, msg.session);
    for (const chunk of this.pendingInput) channel.write(chunk);
    this.pendingInput = [];
    this.pendingBytes = 0;
  }

  /** Session output → binary frames, reading no more while the browser is behind. */
  private pipe(channel: ClientChannel, session: string): void {
    let exit: { code: number | null; signal: string | null } | null = null;
    const forward = (data: Buffer) => {
      if (this.ws.readyState !== this.ws.OPEN) return;
      this.ws.send(data, { binary: true }, () => {
        if (this.paused && this.ws.bufferedAmount < LOW_WATER_BYTES) {
          this.paused = false;
          if (this.channel === channel) channel.resume();
        }
      });
      if (!this.paused && this.ws.bufferedAmount > HIGH_WATER_BYTES) {
        this.paused = true;
        channel.pause();
      }
    };
    channel.on('data', forward);
    channel.stderr.on('data', forward);
    channel.on('exit', (code: number | null, signal?: string, _core?: boolean, why?: string) => {
      if (signal === `SIG${STALLED_ATTACHMENT_SIGNAL}` && why) return this.stalled(channel, why);
      exit = { code: signal ? null : (code ?? null), signal: signal ?? null };
    });
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = null;
      if (exit) this.send({ type: 'exit', session, ...exit });
      else
        this.sendError(
          new TerminalProblem(
            'connection_lost',
            'the connection to the workspace’s agent was lost',
          ),
        );
    });
  }

  /**
   * The agent detached this socket for not taking output (the browser stalled while others
   * were attached; the agent's policy, not the hub's). The close frame follows the output
   * still queued, so a tab that wakes up shows all it had, then the reason, and reconnects.
   */
  private stalled(channel: ClientChannel, why: string): void {
    if (this.channel !== channel) return;
    this.detach();
    if (this.ws.readyState === this.ws.OPEN)
      this.ws.close(TERMINAL_CLOSE_CODES.stalled, closeReason(why));
  }

  private detach(): void {
    const channel = this.channel;
    this.channel = null;
    this.paused = false;
    channel?.close();
  }

  /**
   * The lease, made once and again after its connection ended. The first uses the workspace
   * the upgrade just read; later ones read it anew (it may have been resumed meanwhile).
   */
  private leaseNow(): Promise<AgentLease> {
    if (this.lease) return this.lease;
    const fresh = this.upgradeRead;
    this.upgradeRead = null;
    const lease = (async () => {
      const ws = fresh ?? (await this.deps.store.get(this.grant.workspace.id));
      if (!ws || !canSee(this.grant.identity, ws))
        throw new TerminalProblem(
          'workspace_not_ready',
          `workspace ${this.grant.workspace.id} is gone`,
        );
      return this.deps.agentLink.lease(this.user, ws);
    })();
    this.lease = lease;
    lease.then(
      (l) => {
        if (this.closed) return l.release();
        l.onClose(() => {
          if (this.lease === lease) this.lease = null;
        });
      },
      () => {
        if (this.lease === lease) this.lease = null;
      },
    );
    return lease;
  }

  private serially(op: () => Promise<void>, after?: () => void): void {
    this.queue = this.queue
      .then(op)
      .catch((err: unknown) => this.sendError(err))
      .finally(after);
  }

  private send(msg: TerminalServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private sendError(err: unknown): void {
    this.send({ type: 'error', ...this.problemOf(err) });
  }

  private problemOf(err: unknown) {
    if (err instanceof TerminalProblem)
      return { code: err.code, message: err.message, ...err.extra };
    if (err instanceof AgentLinkError)
      return {
        code: err.code,
        message: err.message,
        ...(err.status ? { status: err.status } : {}),
      };
    this.deps.log.error('terminal failed', {
      workspace_id: this.grant.workspace.id,
      error: err instanceof Error ? err.stack : String(err),
    });
    return { code: 'internal' as const, message: 'internal error; see the hub logs' };
  }

  private onClose(): void {
    this.closed = true;
    this.detach();
    this.lease?.then(
      (l) => l.release(),
      () => undefined,
    );
    this.lease = null;
  }
}

/** A close frame's reason holds at most 123 bytes (RFC 6455 §5.5: 125 with the code). */
function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= 123
    ? text
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
}

/** A text frame as a client message, or the `bad_message` naming what was wrong. */
function parseFrame(data: Buffer): TerminalClientMessageParsed | TerminalProblem {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return new TerminalProblem('bad_message', 'a text frame must be JSON');
  }
  const result = TerminalClientMessage.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || 'type';
  return new TerminalProblem('bad_message', `${field}: ${issue?.message}`, { field });
}
