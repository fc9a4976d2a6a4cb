import { randomBytes } from 'node:crypto';
import {
  type DocumentReference,
  FieldPath,
  type Firestore,
  Timestamp,
  type Transaction,
  type WriteBatch,
} from '@google-cloud/firestore';
import {
  EVENT_ID_PATTERN,
  type EventAction,
  type EventActor,
  type EventOutcome,
  type Workspace,
  WorkspaceEvent,
} from '@workspace-hub/api';
import { DEFAULT_EVENT_RETENTION_DAYS } from '../settings.js';
import { firestoreCall } from './firestore-calls.js';
import { decodePageToken, encodePageToken } from './page-token.js';

/** Events live under their workspace: `workspaces/{id}/events/{eventId}`. */
export const EVENTS = 'events';
/** The field of the `events` collection group's TTL policy (the Terraform module sets it). */
export const EVENT_EXPIRY_FIELD = 'expires_at';
/**
 * One marker per removed workspace whose events may still be there
 * (`deleted_workspaces/{id}`), written in the commit that removes the
 * document: Firestore does not delete a document's subcollections with it.
 * The events go right after; a marker left by a hub that stopped in between is
 * finished by the cleanup sweep. Markers carry `expires_at` too.
 */
export const DELETED_WORKSPACES = 'deleted_workspaces';
export { DEFAULT_EVENT_RETENTION_DAYS };

/** What a state change records; the store adds the statuses and the reason. */
export interface EventDraft {
  actor: EventActor;
  action: EventAction;
  outcome: EventOutcome;
  error?: { code: string; message: string } | null;
  /**
   * When: the time the change was decided with (a transition's or the sweep's `now`, the
   * hub's clock), never read again at write time; the write's `updated_at` too.
   */
  at: Date;
}

export interface EventPage {
  events: WorkspaceEvent[];
  nextPageToken: string | null;
}

const MAX_DELETES_PER_COMMIT = 500;
let counter = 0;

/**
 * Time-ordered ids (ms, then a per-process counter, then random), so events of
 * the same millisecond still list in the order they were written here.
 */
export function newEventId(at: Date): string {
  counter = (counter + 1) % 36 ** 4;
  const random = [...randomBytes(7)].map((b) => (b % 36).toString(36)).join('');
  return (
    at.getTime().toString(36).padStart(9, '0') + counter.toString(36).padStart(4, '0') + random
  );
}

/**
 * A workspace's history. Writes travel in the caller's batch or transaction
 * (the commit of the status change itself), so an event exists exactly when
 * its change does and costs no extra round trip.
 */
export class EventStore {
  readonly retentionMs: number;

  constructor(
    readonly db: Firestore,
    opts: { retentionDays?: number } = {},
  ) {
    this.retentionMs = (opts.retentionDays ?? DEFAULT_EVENT_RETENTION_DAYS) * 86_400_000;
  }

  private events(workspaceId: string) {
    return this.db.collection('workspaces').doc(workspaceId).collection(EVENTS);
  }

  /** The event of a change from `before` to `after` (`null`: removed), ready to write. */
  entry(
    workspaceId: string,
    before: Workspace | null,
    after: Workspace | null,
    draft: EventDraft,
  ): { ref: DocumentReference; data: Record<string, unknown> } {
    const { at } = draft;
    const id = newEventId(at);
    const error = draft.error ?? null;
    return {
      ref: this.events(workspaceId).doc(id),
      data: {
        workspace_id: workspaceId,
        at: Timestamp.fromDate(at),
        actor: draft.actor,
        action: draft.action,
        outcome: draft.outcome,
        status_before: before?.status ?? null,
        status_after: after?.status ?? null,
        reason: after?.status_reason ?? error?.message ?? null,
        error,
        [EVENT_EXPIRY_FIELD]: Timestamp.fromMillis(at.getTime() + this.retentionMs),
      },
    };
  }

  /** Adds the event to a batch or transaction that writes the change itself. */
  writeIn(
    commit: WriteBatch | Transaction,
    workspaceId: string,
    before: Workspace | null,
    after: Workspace | null,
    draft: EventDraft,
  ): void {
    const { ref, data } = this.entry(workspaceId, before, after, draft);
    (commit as WriteBatch).create(ref, data);
  }

  /** Marks a removed workspace's events for deletion, in the commit that removes it. */
  markRemovedIn(tx: Transaction, workspaceId: string, now: Date): void {
    tx.set(this.db.collection(DELETED_WORKSPACES).doc(workspaceId), {
      removed_at: Timestamp.fromDate(now),
      [EVENT_EXPIRY_FIELD]: Timestamp.fromMillis(now.getTime() + this.retentionMs),
    });
  }

  /**
   * Newest first. TTL deletes expired events within about a day, not at once,
   * so the query only reaches back over the retention period and any event
   * past its own `expires_at` (kept under a longer retention) is left out too.
   */
  async list(
    workspaceId: string,
    opts: { limit: number; pageToken?: string; now: Date },
  ): Promise<EventPage> {
    const oldest = Timestamp.fromMillis(opts.now.getTime() - this.retentionMs);
    let q = this.events(workspaceId)
      .where('at', '>', oldest)
      .orderBy('at', 'desc')
      .orderBy(FieldPath.documentId(), 'desc');
    if (opts.pageToken) {
      const cursor = decodePageToken(opts.pageToken, EVENT_ID_PATTERN);
      q = q.startAfter(Timestamp.fromDate(new Date(cursor.c)), cursor.i);
    }
    const snap = await firestoreCall(this.db, () => q.limit(opts.limit + 1).get());
    const docs = snap.docs.slice(0, opts.limit);
    const now = opts.now.getTime();
    const events = docs
      .filter((d) => (d.get(EVENT_EXPIRY_FIELD) as Timestamp).toMillis() > now)
      .map((d) => decodeEvent(d.id, d.data()));
    const last = docs.at(-1);
    return {
      events,
      nextPageToken:
        snap.docs.length > opts.limit && last
          ? encodePageToken({ c: (last.get('at') as Timestamp).toDate().toISOString(), i: last.id })
          : null,
    };
  }

  /** Deletes up to `max` events of a workspace; returns how many went. */
  async deleteOf(workspaceId: string, max = MAX_DELETES_PER_COMMIT): Promise<number> {
    const snap = await firestoreCall(this.db, () =>
      this.events(workspaceId).select().limit(max).get(),
    );
    await this.deleteAll(snap.docs.map((d) => d.ref));
    return snap.size;
  }

  /**
   * The events of removed workspaces: each marker's events, then the marker
   * once none are left; at most `max` deletes in all (the next pass goes on).
   */
  async purgeRemoved(max: number): Promise<number> {
    const markers = await firestoreCall(this.db, () =>
      this.db.collection(DELETED_WORKSPACES).limit(max).get(),
    );
    let deleted = 0;
    for (const marker of markers.docs) {
      if (deleted >= max) break;
      const room = Math.min(MAX_DELETES_PER_COMMIT, max - deleted);
      const n = await this.deleteOf(marker.id, room);
      deleted += n;
      // Fewer than asked for: none are left.
      if (n < room) await firestoreCall(this.db, () => marker.ref.delete());
    }
    return deleted;
  }

  /**
   * Expired events, at most `max`, for where no TTL policy runs (the Firestore
   * emulator runs none); on Google, TTL deletes them and this finds few.
   */
  async deleteExpired(now: Date, max: number): Promise<number> {
    const snap = await firestoreCall(this.db, () =>
      this.db
        .collectionGroup(EVENTS)
        .where(EVENT_EXPIRY_FIELD, '<=', Timestamp.fromDate(now))
        .select()
        .limit(max)
        .get(),
    );
    await this.deleteAll(snap.docs.map((d) => d.ref));
    return snap.size;
  }

  private async deleteAll(refs: DocumentReference[]): Promise<void> {
    for (let i = 0; i < refs.length; i += MAX_DELETES_PER_COMMIT) {
      const batch = this.db.batch();
      for (const ref of refs.slice(i, i + MAX_DELETES_PER_COMMIT)) batch.delete(ref);
      await firestoreCall(this.db, () => batch.commit());
    }
  }
}

function decodeEvent(id: string, doc: Record<string, unknown>): WorkspaceEvent {
  const { [EVENT_EXPIRY_FIELD]: _expires, at, ...rest } = doc;
  return WorkspaceEvent.parse({ ...rest, id, at: (at as Timestamp).toDate().toISOString() });
}
