/** Runs `fn` after `ms` unless the returned function is called first (tests inject their own). */
export type Schedule = (fn: () => void, ms: number) => () => void;

export const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/**
 * How long a session waits for a client that stopped taking output while other clients are
 * attached. Long enough for a live client's hiccups (TCP retransmits after 1 s then 2 s more, a
 * Wi-Fi roam, a browser tab busy rendering a burst), short enough that the others see a pause,
 * not a hang: far below the hub's 30–60 s WebSocket ping timeout and an ssh keepalive's.
 */
export const DEFAULT_STALL_GRACE_MS = 5000;

export interface OutputFlowOptions<C> {
  pty: { pause(): void; resume(): void };
  graceMs: number;
  schedule: Schedule;
  /** Whether anyone besides `client` is attached (only then may it be dropped). */
  othersAttached: (client: C) => boolean;
  /** Ends `client`'s attachment: it stalled for `graceMs` while others were attached. */
  drop: (client: C) => void;
}

interface Hold {
  release: () => void;
  cancelTimer: () => void;
  /** The grace ran out while the client was alone: dropped as soon as another attaches. */
  overdue: boolean;
}

/**
 * A session's output flow control across its clients. A client that cannot take more holds
 * the pty (the program gets backpressure, nothing is dropped) until it drains or leaves; a
 * client still holding after the grace is dropped if anyone else is attached, so one stalled
 * attachment never freezes the others. A lone slow client is waited for indefinitely.
 */
export class OutputFlow<C extends { onDrain(release: () => void): void }> {
  private readonly holds = new Map<C, Hold>();

  constructor(private readonly opts: OutputFlowOptions<C>) {}

  /** `client`'s write returned false: hold the pty until it drains, leaves or stalls too long. */
  blocked(client: C): void {
    if (this.holds.has(client)) return;
    if (this.holds.size === 0) this.opts.pty.pause();
    const hold: Hold = {
      release: () => this.left(client),
      cancelTimer: this.opts.schedule(() => this.expired(client, hold), this.opts.graceMs),
      overdue: false,
    };
    this.holds.set(client, hold);
    client.onDrain(hold.release);
  }

  /** `client` drained or detached: its hold (if any) ends; the pty resumes when none is left. */
  left(client: C): void {
    const hold = this.holds.get(client);
    if (!hold) return;
    this.holds.delete(client);
    hold.cancelTimer();
    if (this.holds.size === 0) this.opts.pty.resume();
  }

  /** Someone attached: clients that were stalled past the grace while alone go now. */
  attached(): void {
    for (const [client, hold] of this.holds)
      if (hold.overdue && this.opts.othersAttached(client)) this.dropStalled(client);
  }

  /** The session ended: no hold matters any more. */
  clear(): void {
    for (const hold of this.holds.values()) hold.cancelTimer();
    this.holds.clear();
  }

  private expired(client: C, hold: Hold): void {
    if (this.holds.get(client) !== hold) return;
    hold.overdue = true;
    if (this.opts.othersAttached(client)) this.dropStalled(client);
  }

  private dropStalled(client: C): void {
    this.opts.drop(client);
    this.left(client);
  }
}
