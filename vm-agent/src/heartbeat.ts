import type { Activity } from './activity.js';
import type { HubClient } from './hub-client.js';
import { log } from './log.js';

export interface HeartbeatOptions {
  hub: Pick<HubClient, 'heartbeat'>;
  workspaceId: string;
  activity: Activity;
  intervalSeconds: number;
  /** Current session count and attached device ids, for the heartbeat body. */
  snapshot: () => { sessions: number; attachedDevices: string[] };
  /** Posts /agent/ready again (after a resume). */
  reportReady: () => void;
}

/**
 * Sends a heartbeat at most once per interval when there was activity, and
 * notices the process was frozen (VM suspend, SIGSTOP): a tick that fires far
 * later than scheduled means the wall clock jumped, so the agent reports
 * ready again without waiting for the hub to ask.
 */
export class HeartbeatLoop {
  private timer: NodeJS.Timeout | null = null;
  private lastTickAt = Date.now();
  private lastBeatAt = 0;
  private sending = false;
  private readonly tickMs: number;
  private readonly jumpMs: number;

  constructor(private readonly opts: HeartbeatOptions) {
    this.tickMs = Math.min(1000, opts.intervalSeconds * 1000);
    this.jumpMs = Math.max(3000, this.tickMs * 3);
  }

  start(): void {
    this.lastTickAt = Date.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = Date.now();
    const late = now - this.lastTickAt - this.tickMs;
    this.lastTickAt = now;
    if (late > this.jumpMs) {
      log('INFO', 'wall-clock jump: the agent was suspended; reporting ready again', {
        late_ms: late,
      });
      this.opts.activity.touch();
      this.opts.reportReady();
    }
    if (!this.opts.activity.dirty || this.sending) return;
    if (now - this.lastBeatAt < this.opts.intervalSeconds * 1000) return;
    void this.beat();
  }

  private async beat(): Promise<void> {
    this.sending = true;
    this.lastBeatAt = Date.now();
    const { activity } = this.opts;
    activity.dirty = false;
    try {
      const snap = this.opts.snapshot();
      const reportReady = await this.opts.hub.heartbeat({
        workspace_id: this.opts.workspaceId,
        last_activity_at: activity.lastActivityAt.toISOString(),
        sessions: snap.sessions,
        attached_devices: snap.attachedDevices.slice(0, 100),
      });
      if (reportReady === null) activity.dirty = true;
      if (reportReady) this.opts.reportReady();
    } finally {
      this.sending = false;
    }
  }
}
