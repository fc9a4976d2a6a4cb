/** When the workspace was last used: terminal bytes, channels, forwarded connections. */
export class Activity {
  lastActivityAt = new Date();
  /** Set by any activity, cleared when a heartbeat carried it. */
  dirty = false;

  touch(): void {
    this.lastActivityAt = new Date();
    this.dirty = true;
  }
}
