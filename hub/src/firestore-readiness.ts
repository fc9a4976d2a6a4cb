import { setTimeout as delay } from 'node:timers/promises';
import type { Firestore } from '@google-cloud/firestore';
import { probeFirestore } from '@workspace-hub/core';

export type FirestoreState = 'ok' | 'unavailable' | 'unknown';

/** How long a readiness probe may take before Firestore counts as unavailable. */
export const PROBE_TIMEOUT_MS = 2_000;
/**
 * The same until Firestore has answered once in this process: the client's
 * first call sets up its channel and credentials, which takes seconds on a
 * cold instance and must not pass for an outage.
 */
export const FIRST_PROBE_TIMEOUT_MS = 10_000;

/**
 * Whether the hub can reach Firestore. The client library retries an
 * unreachable Firestore for about a minute before it fails a call, so the
 * hub cannot learn it from a request's own call in time; it asks with a
 * small read instead, bounded by PROBE_TIMEOUT_MS. One probe runs at a time:
 * everyone asking meanwhile waits for that one. A probe that timed out keeps
 * running, and its late success (the library's retries reaching a Firestore
 * that is back) is what marks it reachable again.
 */
export class FirestoreReadiness {
  private state: FirestoreState = 'unknown';
  private probing: Promise<boolean> | null = null;
  private answeredOnce = false;
  private settledAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  static of(db: Firestore): FirestoreReadiness {
    return new FirestoreReadiness(() => probeFirestore(db));
  }

  /** What the last probe (or failed call) said, without asking. */
  get current(): FirestoreState {
    return this.state;
  }

  /** A call failed the way an unreachable Firestore fails calls. */
  markUnavailable(): void {
    this.state = 'unavailable';
  }

  /** Asks Firestore (or joins the probe under way); answers within PROBE_TIMEOUT_MS once warm. */
  async check(): Promise<boolean> {
    if (this.stopped) return false;
    this.probing ??= this.probe().then(
      () => this.settle(true),
      () => this.settle(false),
    );
    const timeout = this.answeredOnce ? PROBE_TIMEOUT_MS : FIRST_PROBE_TIMEOUT_MS;
    const ok = await Promise.race([this.probing, delay(timeout, false, { ref: false })]);
    if (!ok) this.state = 'unavailable';
    return ok;
  }

  /**
   * Starts a probe unless one is under way or the last one ended within `maxAgeMs`, without
   * waiting for it. For `/health`: polled in a loop (load balancers, uptime checks, a load
   * test), a probe per call would keep Firestore busy answering probes back to back.
   */
  refresh(maxAgeMs: number): void {
    if (this.stopped || this.probing || this.now() - this.settledAt < maxAgeMs) return;
    this.check().catch(() => undefined);
  }

  /**
   * Starts no probe from now on (the hub is closing). A probe under way is a Firestore call
   * like any other: `closeFirestore` waits for it or leaves the client open until it ends.
   */
  stop(): void {
    this.stopped = true;
  }

  private settle(ok: boolean): boolean {
    this.probing = null;
    this.settledAt = this.now();
    this.state = ok ? 'ok' : 'unavailable';
    if (ok) this.answeredOnce = true;
    return ok;
  }
}
