import { setTimeout as delay } from 'node:timers/promises';

export interface FreshListOptions {
  /** Fetches never start closer together than this, however many readers wait. */
  minIntervalMs: number;
  /** After a failed fetch, readers get the last good copy without a new fetch for this long. */
  failureBackoffMs: number;
}

/**
 * A value fetched from a slow source (the hub), read as "a copy the source
 * served no earlier than T". Readers that need a newer copy than the one held
 * share the next fetch, so a crowd of them makes one call; fetches are spaced
 * by `minIntervalMs`; while the source fails, readers get the last good copy.
 */
export class FreshList<T> {
  private value: T | null = null;
  /** When the fetch that produced `value` started: the copy is at least that recent. */
  private valueAsOf = Number.NEGATIVE_INFINITY;
  private inflight: { startedAt: number; done: Promise<void> } | null = null;
  private queued: Promise<void> | null = null;
  private lastStart = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** Resolves to the value, or null when the source could not answer. */
    private readonly fetch: () => Promise<T | null>,
    private readonly opts: FreshListOptions,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** The copy held and how recent it is, without fetching. */
  held(): { value: T; asOf: number } | null {
    return this.value === null ? null : { value: this.value, asOf: this.valueAsOf };
  }

  /**
   * A copy the source served at or after `since`; when the source is failing
   * (now or a moment ago), the last good copy instead (null if there is none).
   */
  async since(since: number): Promise<T | null> {
    if (this.valueAsOf >= since) return this.value;
    if (this.now() - this.failedAt < this.opts.failureBackoffMs) return this.value;
    await this.fetchStartedAtOrAfter(since);
    return this.value;
  }

  private fetchStartedAtOrAfter(since: number): Promise<void> {
    if (this.inflight && this.inflight.startedAt >= since) return this.inflight.done;
    // A fetch that started earlier may miss what `since` asks for: queue one
    // after it. Everyone arriving meanwhile joins that queued fetch, which
    // starts later than they arrived.
    if (!this.queued) {
      const queued = (async () => {
        await this.inflight?.done;
        const wait = this.lastStart + this.opts.minIntervalMs - this.now();
        if (wait > 0) await delay(wait, undefined, { ref: false });
      })().then(() => {
        this.queued = null;
        return this.start();
      });
      this.queued = queued;
    }
    return this.queued;
  }

  private start(): Promise<void> {
    const startedAt = this.now();
    this.lastStart = startedAt;
    const done: Promise<void> = this.fetch()
      .catch(() => null)
      .then((value) => {
        if (value === null) {
          this.failedAt = this.now();
          return;
        }
        this.failedAt = Number.NEGATIVE_INFINITY;
        if (startedAt >= this.valueAsOf) {
          this.value = value;
          this.valueAsOf = startedAt;
        }
      })
      .finally(() => {
        if (this.inflight?.done === done) this.inflight = null;
      });
    this.inflight = { startedAt, done };
    return done;
  }
}
