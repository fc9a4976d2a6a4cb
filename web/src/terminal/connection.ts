import { webSocketProtocols } from '../credential.js';
import type {
  TERMINAL_CLOSE_CODES,
  TerminalClientMessage,
  TerminalServerMessage,
  TerminalSessionInfo,
} from './protocol.js';

/** What the terminal page hears from its connection. */
export interface ConnectionEvents {
  output(bytes: Uint8Array): void;
  /** Attached (again): the session's scrollback follows as output. */
  attached(session: string): void;
  sessions(list: TerminalSessionInfo[]): void;
  exit(session: string, code: number | null): void;
  /**
   * `reconnecting` after a dropped socket (with the hub's reason when it said why, as when the
   * agent let a stalled tab go), `open` once attached again.
   */
  state(state: 'connecting' | 'open' | 'reconnecting' | 'closed', why?: string): void;
  /** The hub refused: `workspace_not_ready` (with the status), `permission_denied`, … */
  refused(code: string, message: string, status?: string): void;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
/** The agent let this tab go for taking no output (a type-checked copy: the page bundles no zod). */
const STALLED: (typeof TERMINAL_CLOSE_CODES)['stalled'] = 4001;
/** An attachment that lasted this long ends a streak of stalls (whose reconnects back off). */
const STALL_STREAK_RESET_MS = 60_000;
/** Keystrokes typed while reconnecting are sent once attached again, up to this many bytes. */
const PENDING_INPUT_MAX = 64 * 1024;
const PING_MS = 25_000;
/** Refusals a new socket would get again at once: the page decides what comes next. */
const FINAL = new Set(['workspace_not_ready', 'permission_denied']);

/**
 * One terminal socket to `GET /workspaces/:id/terminal` (webterm's protocol, api/src/terminal.ts),
 * reopened with backoff whenever it drops (Cloud Run ends requests after 60 minutes, networks
 * drop): each new socket attaches to the same session and the hub replays its scrollback.
 */
export class TerminalConnection {
  private socket: WebSocket | null = null;
  private session: string;
  private size: { cols: number; rows: number } = { cols: 80, rows: 24 };
  private failures = 0;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private ping: ReturnType<typeof setInterval> | undefined;
  private readonly encoder = new TextEncoder();
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private attachedNow = false;
  private attachedAt = 0;
  /** Stalls in a row: a tab too slow for the session's output is let go again after the grace. */
  private stalls = 0;

  constructor(
    private readonly workspaceId: string,
    session: string,
    private readonly on: ConnectionEvents,
  ) {
    this.session = session;
  }

  open(): void {
    this.closed = false;
    clearTimeout(this.retry);
    this.on.state(this.failures ? 'reconnecting' : 'connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.host}/workspaces/${encodeURIComponent(this.workspaceId)}/terminal`;
    const socket = new WebSocket(url, webSocketProtocols());
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.attachedNow = false;
    socket.onopen = () => {
      this.send({ type: 'attach', session: this.session, ...this.size });
      clearInterval(this.ping);
      this.ping = setInterval(() => this.send({ type: 'ping' }), PING_MS);
    };
    socket.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) this.on.output(new Uint8Array(ev.data));
      else this.handle(JSON.parse(String(ev.data)) as TerminalServerMessage);
    };
    socket.onclose = (ev) => {
      clearInterval(this.ping);
      if (this.socket !== socket) return;
      this.attachedNow = false;
      this.socket = null;
      if (this.closed) return this.on.state('closed');
      let delays = this.failures;
      if (ev.code === STALLED) {
        if (Date.now() - this.attachedAt > STALL_STREAK_RESET_MS) this.stalls = 0;
        delays = this.stalls++;
      }
      this.on.state('reconnecting', ev.code === STALLED ? ev.reason : undefined);
      const wait = BACKOFF_MS[Math.min(delays, BACKOFF_MS.length - 1)] ?? 8000;
      this.failures++;
      this.retry = setTimeout(() => this.open(), wait);
    };
  }

  private handle(msg: TerminalServerMessage): void {
    switch (msg.type) {
      case 'attached':
        this.failures = 0;
        this.session = msg.session;
        this.attachedNow = true;
        this.attachedAt = Date.now();
        this.on.attached(msg.session);
        this.on.state('open');
        this.send({ type: 'list' });
        this.flushPending();
        return;
      case 'sessions':
        this.on.sessions(msg.sessions);
        return;
      case 'exit':
        this.on.exit(msg.session, msg.code);
        return;
      case 'error':
        if (FINAL.has(msg.code)) this.close();
        this.on.refused(msg.code, msg.message, msg.status);
        return;
      case 'pong':
        return;
    }
  }

  private send(msg: TerminalClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(msg));
  }

  input(data: string): void {
    const bytes = this.encoder.encode(data);
    if (this.attachedNow && this.socket?.readyState === WebSocket.OPEN) this.socket.send(bytes);
    else if (this.pendingBytes + bytes.length <= PENDING_INPUT_MAX) {
      this.pending.push(bytes);
      this.pendingBytes += bytes.length;
    }
  }

  private flushPending(): void {
    for (const bytes of this.pending) this.socket?.send(bytes);
    this.pending = [];
    this.pendingBytes = 0;
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    this.send({ type: 'resize', cols, rows });
  }

  attach(session: string): void {
    this.session = session;
    this.attachedNow = false;
    this.send({ type: 'attach', session, ...this.size });
  }

  listSessions(): void {
    this.send({ type: 'list' });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.on.state('closed');
  }
}
