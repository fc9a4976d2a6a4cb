import nodePty from 'node-pty';
import type { Activity } from './activity.js';
import { DEFAULT_STALL_GRACE_MS, OutputFlow, realSchedule, type Schedule } from './output-flow.js';
import { PtyInput } from './pty-input.js';
import { RingBuffer } from './ring-buffer.js';
import { sshSignalName } from './signals.js';

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What a session needs of its pty (node-pty's IPty spawned with `encoding: null`). */
export interface Terminal {
  readonly pid: number;
  onData(listener: (data: Buffer) => void): unknown;
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): unknown;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

/** One client's view of a session (an SSH channel). */
export interface SessionClient {
  deviceId: string;
  /** Returns false when the client cannot take more now; `onDrain` is then called later. */
  write(data: Buffer): boolean;
  onDrain(resume: () => void): void;
  exited(code: number | null, signal: string | null): void;
  /**
   * The session let this client go: it took no output for `graceMs` while others were
   * attached. End the channel saying so; attaching again replays the scrollback.
   */
  stalled(graceMs: number): void;
}

/** How a session treats a client that stopped taking output (tests inject the timer). */
export interface StallPolicy {
  graceMs: number;
  schedule: Schedule;
}

export const DEFAULT_STALL_POLICY: StallPolicy = {
  graceMs: DEFAULT_STALL_GRACE_MS,
  schedule: realSchedule,
};

export interface SessionInfo {
  name: string;
  pid: number;
  created_at: string;
  last_activity_at: string;
  cols: number;
  rows: number;
  clients: { device_id: string; attached_at: string }[];
}

export const SESSION_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** A persistent terminal: survives detaches, replays its scrollback on attach. */
export class Session {
  readonly createdAt = new Date();
  lastActivityAt = new Date();
  private readonly clients = new Map<SessionClient, Date>();
  private readonly scrollback: RingBuffer;
  private readonly keystrokes: PtyInput;
  private size: TerminalSize;
  private exitWaiters: (() => void)[] = [];
  private readonly flow: OutputFlow<SessionClient>;
  exitStatus: { code: number | null; signal: string | null } | null = null;

  constructor(
    readonly name: string,
    private readonly pty: Terminal,
    scrollbackBytes: number,
    size: TerminalSize,
    private readonly activity: Activity,
    onExit: () => void,
    stall: StallPolicy = DEFAULT_STALL_POLICY,
  ) {
    this.flow = new OutputFlow<SessionClient>({
      pty,
      ...stall,
      othersAttached: (client) => this.clients.size > (this.clients.has(client) ? 1 : 0),
      drop: (client) => {
        this.clients.delete(client);
        client.stalled(stall.graceMs);
      },
    });
    this.scrollback = new RingBuffer(scrollbackBytes);
    this.keystrokes = new PtyInput(pty);
    this.size = size;
    pty.onData((data) => this.output(data));
    pty.onExit(({ exitCode, signal }) => {
      const sig = signal ? sshSignalName(signal) : null;
      this.exitStatus = { code: sig ? null : exitCode, signal: sig };
      this.keystrokes.dispose();
      this.flow.clear();
      onExit();
      for (const client of this.clients.keys()) client.exited(this.exitStatus.code, sig);
      this.clients.clear();
      for (const w of this.exitWaiters) w();
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  get clientDevices(): string[] {
    return [...this.clients.keys()].map((c) => c.deviceId);
  }

  /** Adds a client: it gets the scrollback, then live output; the terminal takes its size. */
  attach(client: SessionClient, size: TerminalSize | null): () => void {
    this.clients.set(client, new Date());
    const replay = this.scrollback.contents();
    if (replay.length && !client.write(replay)) this.flow.blocked(client);
    if (size) this.resize(size);
    this.activity.touch();
    this.flow.attached();
    return () => {
      this.clients.delete(client);
      this.flow.left(client);
    };
  }

  input(data: Buffer | string): void {
    if (this.exitStatus) return;
    this.lastActivityAt = new Date();
    this.activity.touch();
    this.keystrokes.write(typeof data === 'string' ? Buffer.from(data) : data);
  }

  resize(size: TerminalSize): void {
    if (this.exitStatus) return;
    this.size = { cols: clamp(size.cols), rows: clamp(size.rows) };
    this.pty.resize(this.size.cols, this.size.rows);
  }

  /** Hangs up the terminal (SIGHUP, then SIGKILL if the shell ignores it) and waits for its exit. */
  async kill(): Promise<void> {
    if (this.exitStatus) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.pty.kill('SIGHUP');
    const hard = setTimeout(() => {
      try {
        process.kill(this.pty.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 2000);
    await exited;
    clearTimeout(hard);
  }

  info(): SessionInfo {
    return {
      name: this.name,
      pid: this.pid,
      created_at: this.createdAt.toISOString(),
      last_activity_at: this.lastActivityAt.toISOString(),
      cols: this.size.cols,
      rows: this.size.rows,
      clients: [...this.clients].map(([c, at]) => ({
        device_id: c.deviceId,
        attached_at: at.toISOString(),
      })),
    };
  }

  private output(data: Buffer): void {
    this.lastActivityAt = new Date();
    this.activity.touch();
    this.scrollback.write(data);
    for (const client of this.clients.keys()) if (!client.write(data)) this.flow.blocked(client);
  }
}

function clamp(n: number): number {
  return Math.max(1, Math.min(1000, Math.floor(n) || 80));
}

export interface SessionManagerOptions {
  home: string;
  shell: string;
  scrollbackBytes: number;
  /** Default: `DEFAULT_STALL_POLICY`. */
  stall?: StallPolicy;
  activity: Activity;
  /** Builds the environment of a new session's shell. */
  env: (name: string, term: string | null) => Record<string, string>;
}

/** The named terminals of this workspace. */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly opts: SessionManagerOptions) {}

  get(name: string): Session | undefined {
    return this.sessions.get(name);
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  /** Returns the session, creating it in the login shell and home when it does not exist. */
  getOrCreate(
    name: string,
    size: TerminalSize | null,
    term: string | null,
  ): { session: Session; created: boolean } {
    const existing = this.sessions.get(name);
    if (existing) return { session: existing, created: false };
    if (!SESSION_NAME.test(name)) throw new Error(`invalid session name "${name}"`);
    const initial = { cols: clamp(size?.cols ?? 80), rows: clamp(size?.rows ?? 24) };
    // With `encoding: null` node-pty hands out Buffers, which its typings do not say.
    const pty = nodePty.spawn(this.opts.shell, ['-l'], {
      name: term ?? 'xterm-256color',
      cols: initial.cols,
      rows: initial.rows,
      cwd: this.opts.home,
      env: this.opts.env(name, term ?? 'xterm-256color'),
      encoding: null,
    } as nodePty.IPtyForkOptions) as unknown as Terminal;
    const session = new Session(
      name,
      pty,
      this.opts.scrollbackBytes,
      initial,
      this.opts.activity,
      () => {
        if (this.sessions.get(name) === session) this.sessions.delete(name);
      },
      this.opts.stall,
    );
    this.sessions.set(name, session);
    return { session, created: true };
  }

  async killAll(): Promise<void> {
    await Promise.all(this.list().map((s) => s.kill()));
  }
}
