import { createHash } from 'node:crypto';
import {
  FieldPath,
  type Firestore,
  type Query,
  Timestamp,
  type Transaction,
} from '@google-cloud/firestore';
import type { Workspace, WorkspaceStatus } from '@workspace-hub/api';
import { eachLimited } from '../each-limited.js';
import { HubError } from '../errors.js';
import { baseNameFromRepo } from '../names.js';
import { agentTokenRef } from './agent-token-store.js';
import { DELETED_WORKSPACES, type EventDraft, EventStore } from './event-store.js';
import { firestoreCall } from './firestore-calls.js';
import { decodeWorkspace, encodeWorkspace, UNNAMED } from './firestore-codec.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import {
  firstFreeName,
  isAlreadyExists,
  nameHolder,
  nameRef,
  nameTaken,
  reserveName,
} from './workspace-names.js';

export const WORKSPACES = 'workspaces';
export const IDEMPOTENCY_KEYS = 'idempotency_keys';
/**
 * How long a create's idempotency key is honoured. Each key carries
 * `expires_at`, the field of the collection's TTL policy (the Terraform
 * module sets it), so keys are deleted instead of growing forever; TTL deletes
 * lazily, so an expired key still present is ignored too.
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_EXPIRY_FIELD = 'expires_at';
/** Many requests may race on one workspace (e.g. a burst of start/stop); let them queue. */
const TRANSACTION_OPTIONS = { maxAttempts: 30 };
/** Writers racing on one workspace: after this many refused writes, `decideAndSet` gives up. */
const DECIDE_ATTEMPTS = 20;

export interface ListOptions {
  /** Restrict to one owner; omit for every workspace (admins, cleanup). */
  ownerId?: string;
  status?: WorkspaceStatus;
  limit: number;
  pageToken?: string;
}

export interface Page {
  workspaces: Workspace[];
  nextPageToken: string | null;
}

/** What a mutation returns: the fields to change, `'delete'`, or `null` for no write. */
export type Mutation = Partial<Workspace> | 'delete' | null;

export interface MutateResult<T> {
  before: Workspace;
  /** The workspace after the write; `null` when it was deleted. */
  after: Workspace | null;
  written: boolean;
  value: T;
}

export interface CreateOptions {
  /** Refuse when the owner already has this many workspaces. */
  maxPerOwner?: number;
  /** Same owner + key returns the first workspace instead of creating one. */
  idempotencyKey?: string;
  /**
   * What the request asked for (a digest of its body), kept with the key: the same key with
   * another request is refused, not answered with the first one's workspace.
   */
  requestDigest?: string;
  /**
   * `ws.name` is what the owner asked for: taken is a 409. Otherwise it is a
   * base made unique (`my-app-2`).
   */
  exactName?: boolean;
  /** Recorded with the new document, in its commit. */
  event?: EventDraft;
}

/** A derived name lost to a concurrent create at commit: pick again, this many times. */
const NAME_RACE_RETRIES = 5;

/** What `mutate`'s `decide` returns: the mutation, a value for the caller, and what to record. */
export interface Decision<T> {
  mutation: Mutation;
  value: T;
  /** Recorded in the write's own commit; nothing is recorded when nothing is written. */
  event?: EventDraft;
}

export interface WorkspaceStoreOptions {
  /**
   * Where state changes are recorded (default: an `EventStore` with the
   * default retention); `null` records nothing (the events benchmark's anchor).
   */
  events?: EventStore | null;
  /** Reports what failed after a write succeeded (removing a deleted workspace's events). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

/** Firestore commits at most 500 writes. */
const MAX_WRITES_PER_COMMIT = 500;
/** Commits of one `compareAndSetMany` sent at once. */
const COMMITS_IN_FLIGHT = 4;

/** One write of `compareAndSetMany`: a patch on what was read, and the event it records. */
export interface CompareAndSetItem {
  snap: WorkspaceSnapshot;
  patch: Partial<Workspace>;
  event?: EventDraft;
}

/**
 * Workspace state in Firestore. Every write goes through a transaction that
 * re-reads the document and bumps `version`, so concurrent writers serialize
 * and a claim made from a stale read is refused.
 */
export class WorkspaceStore {
  readonly events: EventStore | null;
  private readonly warn: NonNullable<WorkspaceStoreOptions['warn']>;

  constructor(
    readonly db: Firestore,
    opts: WorkspaceStoreOptions = {},
  ) {
    this.events = opts.events === undefined ? new EventStore(db) : opts.events;
    this.warn =
      opts.warn ??
      ((message, fields) =>
        process.stderr.write(`${JSON.stringify({ severity: 'WARNING', message, ...fields })}\n`));
  }

  private ref(id: string) {
    return this.db.collection(WORKSPACES).doc(id);
  }

  private transaction<T>(update: (tx: Transaction) => Promise<T>): Promise<T> {
    return firestoreCall(this.db, () => this.db.runTransaction(update, TRANSACTION_OPTIONS));
  }

  /** The workspace; one from before names is named first (see nameUnnamed). */
  async get(id: string): Promise<Workspace | null> {
    const ws = (await this.getSnapshot(id))?.workspace ?? null;
    return ws?.name === UNNAMED ? this.nameUnnamed(id) : ws;
  }

  /**
   * The owner's workspace called `name`, through its reservation; null when
   * there is none. A miss names the owner's workspaces from before names
   * first, so those are found by the names their lists show.
   */
  async getByName(ownerId: string, name: string): Promise<Workspace | null> {
    const held = async () => {
      const holder = await firestoreCall(this.db, () => nameRef(this.db, ownerId, name).get());
      if (!holder.exists) return null;
      const ws = await this.get(String(holder.get('workspace_id')));
      return ws && ws.owner_id === ownerId && ws.name === name ? ws : null;
    };
    const found = await held();
    if (found) return found;
    const unnamed = await firestoreCall(this.db, () =>
      this.db.collection(WORKSPACES).where('owner_id', '==', ownerId).select('name').get(),
    );
    const toName = unnamed.docs.filter((d) => d.get('name') === undefined);
    if (!toName.length) return null;
    await Promise.all(toName.map((d) => this.nameUnnamed(d.id)));
    return held();
  }

  /**
   * Gives a workspace from before names the name derived from its repository,
   * made unique and reserved in the same transaction. Only `name` and
   * `version` change: this is a migration, not an activity (`updated_at`
   * measures retention). Returns the workspace, or null if it is gone.
   */
  private async nameUnnamed(id: string): Promise<Workspace | null> {
    return this.transaction(async (tx) => {
      const snap = await tx.get(this.ref(id));
      if (!snap.exists) return null;
      const ws = decodeWorkspace(snap.data()!);
      if (ws.name !== UNNAMED) return ws;
      const name = await firstFreeName(
        tx,
        this.db,
        ws.owner_id,
        baseNameFromRepo(ws.metadata.repo),
      );
      const named = { ...ws, name, version: ws.version + 1 };
      tx.update(this.ref(id), { name, version: named.version });
      reserveName(tx, this.db, named);
      return named;
    });
  }

  /**
   * Renames the workspace: the new name reserved and the old one released in
   * the same transaction as the document, so the id (and with it the VM and
   * the SSH host key alias) stays. 409 when another of the owner's workspaces
   * has the name.
   */
  async rename(id: string, name: string): Promise<Workspace> {
    try {
      return await this.transaction(async (tx) => {
        const snap = await tx.get(this.ref(id));
        if (!snap.exists) throw new HubError('not_found', `workspace ${id} not found`);
        const before = decodeWorkspace(snap.data()!);
        if (before.name === name) return before;
        const holder = await nameHolder(tx, this.db, before.owner_id, name);
        if (holder !== null && holder !== id) throw nameTaken(name);
        const oldHolder =
          before.name === UNNAMED
            ? null
            : await nameHolder(tx, this.db, before.owner_id, before.name);
        const after: Workspace = {
          ...before,
          name,
          version: before.version + 1,
          updated_at: new Date().toISOString(),
        };
        tx.set(this.ref(id), encodeWorkspace(after), {});
        if (oldHolder === id) tx.delete(nameRef(this.db, before.owner_id, before.name));
        if (holder === null) reserveName(tx, this.db, after);
        return after;
      });
    } catch (err) {
      if (isAlreadyExists(err)) throw nameTaken(name);
      throw err;
    }
  }

  /** The workspace with its update time, for a later `compareAndSet`. */
  async getSnapshot(id: string): Promise<WorkspaceSnapshot | null> {
    const snap = await firestoreCall(this.db, () => this.ref(id).get());
    return snap.exists
      ? { workspace: decodeWorkspace(snap.data()!), updateTime: snap.updateTime! }
      : null;
  }

  /**
   * Which of `ids` have a workspace document, in one round trip that reads
   * one small field of each (only existence matters).
   */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const docs = await firestoreCall(this.db, () =>
      this.db.getAll(...ids.map((id) => this.ref(id)), { fieldMask: ['status'] }),
    );
    return new Set(docs.filter((d) => d.exists).map((d) => d.id));
  }

  /** Creates `ws`; returns the existing one instead when the idempotency key was used before. */
  async create(
    ws: Workspace,
    opts: CreateOptions = {},
  ): Promise<{ workspace: Workspace; created: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.createOnce(ws, opts);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        if (opts.exactName) throw nameTaken(ws.name);
        if (attempt >= NAME_RACE_RETRIES) throw err;
      }
    }
  }

  private async createOnce(
    ws: Workspace,
    opts: CreateOptions,
  ): Promise<{ workspace: Workspace; created: boolean }> {
    const keyRef = opts.idempotencyKey
      ? this.db
          .collection(IDEMPOTENCY_KEYS)
          .doc(
            createHash('sha256').update(`${ws.owner_id}\u0000${opts.idempotencyKey}`).digest('hex'),
          )
      : null;
    return this.transaction(async (tx) => {
      if (keyRef) {
        const key = await tx.get(keyRef);
        const expiresAt = key.get(IDEMPOTENCY_KEY_EXPIRY_FIELD) as Timestamp | undefined;
        if (key.exists && (!expiresAt || expiresAt.toMillis() > Date.now())) {
          const digest = key.get('request_digest') as string | undefined;
          if (digest && opts.requestDigest && digest !== opts.requestDigest)
            throw new HubError(
              'invalid_argument',
              'idempotency-key: already used for a create with another body; send a new key',
              { field: 'idempotency-key' },
            );
          const existing = await tx.get(this.ref(key.data()!.workspace_id as string));
          if (existing.exists)
            return { workspace: decodeWorkspace(existing.data()!), created: false };
        }
      }
      if (opts.maxPerOwner !== undefined) {
        const count = await tx.get(
          this.db.collection(WORKSPACES).where('owner_id', '==', ws.owner_id).count(),
        );
        if (count.data().count >= opts.maxPerOwner)
          throw new HubError(
            'quota_exceeded',
            `you already have ${count.data().count} workspaces; the limit is ${opts.maxPerOwner}`,
          );
      }
      const name = opts.exactName
        ? ws.name
        : await firstFreeName(tx, this.db, ws.owner_id, ws.name);
      if (opts.exactName && (await nameHolder(tx, this.db, ws.owner_id, name)) !== null)
        throw nameTaken(name);
      const named = { ...ws, name };
      tx.create(this.ref(ws.id), encodeWorkspace(named));
      reserveName(tx, this.db, named);
      if (opts.event && this.events) this.events.writeIn(tx, ws.id, null, named, opts.event);
      if (keyRef) {
        const now = Timestamp.now();
        tx.set(keyRef, {
          workspace_id: ws.id,
          owner_id: ws.owner_id,
          ...(opts.requestDigest ? { request_digest: opts.requestDigest } : {}),
          created_at: now,
          [IDEMPOTENCY_KEY_EXPIRY_FIELD]: Timestamp.fromMillis(
            now.toMillis() + IDEMPOTENCY_KEY_TTL_MS,
          ),
        });
      }
      return { workspace: named, created: true };
    });
  }

  /**
   * Reads the workspace in a transaction, lets `decide` choose a mutation, and
   * writes it with `version + 1`. `decide` may run more than once (Firestore
   * retries contended transactions), so it must be pure.
   */
  async mutate<T>(
    id: string,
    decide: (ws: Workspace, tx: Transaction) => Decision<T>,
  ): Promise<MutateResult<T>> {
    const result = await this.transaction(async (tx) => {
      const snap = await tx.get(this.ref(id));
      if (!snap.exists) throw new HubError('not_found', `workspace ${id} not found`);
      const before = decodeWorkspace(snap.data()!);
      const { mutation, value, event } = decide(before, tx);
      if (mutation === null) return { before, after: before, written: false, value };
      const now = event?.at ?? new Date();
      if (mutation === 'delete') {
        // Read before any write, as a transaction requires: the name is freed
        // only if this workspace holds it.
        const holder =
          before.name === UNNAMED
            ? null
            : await nameHolder(tx, this.db, before.owner_id, before.name);
        tx.delete(this.ref(id), { lastUpdateTime: snap.updateTime! });
        // The workspace is gone for good: its agent's credential and its name go
        // with it, in the same write, whichever path (hub, cleanup, Eventarc) removes it;
        // its events are marked for deletion in it too (Firestore keeps subcollections).
        tx.delete(agentTokenRef(this.db, id));
        if (holder === id) tx.delete(nameRef(this.db, before.owner_id, before.name));
        this.events?.markRemovedIn(tx, id, now);
        return { before, after: null, written: true, value };
      }
      // A document from before names gets one with its first write.
      const name =
        before.name === UNNAMED
          ? await firstFreeName(
              tx,
              this.db,
              before.owner_id,
              baseNameFromRepo(before.metadata.repo),
            )
          : before.name;
      const after: Workspace = {
        ...before,
        ...mutation,
        name,
        version: before.version + 1,
        updated_at: now.toISOString(),
      };
      if (before.name === UNNAMED) reserveName(tx, this.db, after);
      tx.set(this.ref(id), encodeWorkspace(after), {});
      if (event && this.events) this.events.writeIn(tx, id, before, after, event);
      return { before, after, written: true, value };
    });
    if (result.written && result.after === null) await this.removeEventsOf(id);
    return result;
  }

  /**
   * Deletes a removed workspace's events, then its marker. Best effort: the
   * workspace is gone either way, and the cleanup sweep finishes what is left.
   */
  private async removeEventsOf(id: string): Promise<void> {
    if (!this.events) return;
    try {
      while ((await this.events.deleteOf(id)) > 0);
      await firestoreCall(this.db, () => this.db.collection(DELETED_WORKSPACES).doc(id).delete());
    } catch (err) {
      this.warn('events of a deleted workspace left for the cleanup sweep', {
        workspace_id: id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Applies `patch` only if the document is still at `version`; returns null otherwise. */
  async updateIfVersion(
    id: string,
    version: number,
    patch: Partial<Workspace>,
    event?: EventDraft,
  ): Promise<Workspace | null> {
    const r = await this.mutate(id, (ws) => ({
      mutation: ws.version === version ? patch : null,
      value: ws.version === version,
      event,
    }));
    return r.value ? r.after : null;
  }

  async list(opts: ListOptions): Promise<Page> {
    let q: Query = this.db.collection(WORKSPACES);
    if (opts.ownerId !== undefined) q = q.where('owner_id', '==', opts.ownerId);
    if (opts.status !== undefined) q = q.where('status', '==', opts.status);
    q = q.orderBy('created_at', 'desc').orderBy(FieldPath.documentId(), 'desc');
    if (opts.pageToken) {
      const cursor = decodePageToken(opts.pageToken);
      q = q.startAfter(Timestamp.fromDate(new Date(cursor.c)), cursor.i);
    }
    const snap = await firestoreCall(this.db, () => q.limit(opts.limit + 1).get());
    const docs = snap.docs.slice(0, opts.limit);
    const workspaces = await Promise.all(
      docs.map(async (d) => {
        const ws = decodeWorkspace(d.data());
        return ws.name === UNNAMED ? ((await this.nameUnnamed(ws.id)) ?? ws) : ws;
      }),
    );
    const last = workspaces.at(-1);
    return {
      workspaces,
      nextPageToken:
        snap.docs.length > opts.limit && last
          ? encodePageToken({ c: last.created_at, i: last.id })
          : null,
    };
  }

  /**
   * Workspaces whose `field` is at or before `before` (in `status`, when
   * given), oldest first, page by page, each with the update time a later
   * compare-and-set write can be conditioned on. The next page is read while
   * the caller works on this one; at most two pages are held.
   */
  async *scan(
    status: WorkspaceStatus | null,
    field: 'deadline' | 'updated_at' | 'operation.started_at',
    before: Date,
    pageSize = 200,
  ): AsyncGenerator<WorkspaceSnapshot[]> {
    const all = this.db.collection(WORKSPACES);
    const q = (status === null ? all : all.where('status', '==', status))
      .where(field, '<=', Timestamp.fromDate(before))
      .orderBy(field)
      .orderBy(FieldPath.documentId());
    // One more than a page, so the last page is known without another query.
    let pending = firestoreCall(this.db, () => q.limit(pageSize + 1).get());
    for (;;) {
      const snap = await pending;
      const docs = snap.docs.slice(0, pageSize);
      const more = snap.size > pageSize;
      if (!docs.length) return;
      if (more) {
        const last = docs.at(-1)!;
        pending = firestoreCall(this.db, () =>
          q
            .startAfter(last.get(field), last.id)
            .limit(pageSize + 1)
            .get(),
        );
        // Handled when awaited; this only keeps an abandoned prefetch from being reported.
        pending.catch(() => undefined);
      }
      yield docs.map((d) => ({
        workspace: decodeWorkspace(d.data()),
        updateTime: d.updateTime,
      }));
      if (!more) return;
    }
  }

  /**
   * Many compare-and-set writes in few round trips: each chunk of 500 is one
   * commit in which every write carries its own update-time precondition. A
   * chunk refused because one document changed since it was read (a user's
   * `start` racing a sweep) is retried one write at a time, so each write
   * still applies or fails on its own. Results in input order.
   */
  async compareAndSetMany(
    items: ReadonlyArray<CompareAndSetItem>,
  ): Promise<Array<WorkspaceSnapshot | null>> {
    // A commit holds at most MAX_WRITES_PER_COMMIT writes, and an event is a second write in
    // its workspace's commit: chunks are cut by writes, not by workspaces.
    const chunks: CompareAndSetItem[][] = [];
    let chunk: CompareAndSetItem[] = [];
    let writes = 0;
    for (const item of items) {
      const cost = item.event && this.events ? 2 : 1;
      if (writes + cost > MAX_WRITES_PER_COMMIT) {
        chunks.push(chunk);
        chunk = [];
        writes = 0;
      }
      chunk.push(item);
      writes += cost;
    }
    if (chunk.length) chunks.push(chunk);
    // Chunks are independent (every write carries its own precondition), so they are
    // committed side by side rather than one round trip after another.
    const results: Array<Array<WorkspaceSnapshot | null>> = new Array(chunks.length);
    await eachLimited(chunks, COMMITS_IN_FLIGHT, async (c, i) => {
      results[i] = await this.commitChunk(c);
    });
    return results.flat();
  }

  private async commitChunk(
    chunk: readonly CompareAndSetItem[],
  ): Promise<Array<WorkspaceSnapshot | null>> {
    const writes = chunk.map(({ snap, patch, event }) => this.next(snap, patch, event?.at));
    const batch = this.db.batch();
    // The commit answers one result per write, events included: where each workspace's is.
    const resultIndex: number[] = [];
    let writeCount = 0;
    chunk.forEach(({ snap, event }, k) => {
      const { after, fields } = writes[k]!;
      resultIndex.push(writeCount++);
      batch.update(this.ref(after.id), fields, { lastUpdateTime: snap.updateTime });
      if (event && this.events) {
        this.events.writeIn(batch, after.id, snap.workspace, after, event);
        writeCount++;
      }
    });
    try {
      const written = await firestoreCall(this.db, () => batch.commit());
      return writes.map(({ after }, k) => ({
        workspace: after,
        updateTime: written[resultIndex[k]!]!.writeTime,
      }));
    } catch (err) {
      if (!isPreconditionFailure(err)) throw err;
      return Promise.all(
        chunk.map(({ snap, patch, event }) => this.compareAndSet(snap, patch, event)),
      );
    }
  }

  /**
   * The workspace after `patch`, and the fields to send: only what changed,
   * since the update-time precondition already pins everything else. `updated_at` is `at`,
   * the time of the event the write records, if any.
   */
  private next(
    snap: WorkspaceSnapshot,
    patch: Partial<Workspace>,
    at: Date = new Date(),
  ): { after: Workspace; fields: Record<string, unknown> } {
    const changes = {
      ...patch,
      version: snap.workspace.version + 1,
      updated_at: at.toISOString(),
    };
    return { after: { ...snap.workspace, ...changes }, fields: encodeWorkspace(changes) };
  }

  /**
   * Read, decide, compare-and-set: reads the workspace, lets `decide` choose a
   * patch, and writes it with `compareAndSet`; when someone wrote in between,
   * reads again and decides again. `decide` may run more than once, so it must
   * be pure (it may throw to refuse). A `null` patch writes nothing.
   */
  async decideAndSet<T>(
    id: string,
    decide: (ws: Workspace) => {
      patch: Partial<Workspace> | null;
      value: T;
      /** Recorded in the write's own commit. */
      event?: EventDraft;
    },
  ): Promise<Decided<T>> {
    for (let attempt = 0; ; attempt++) {
      const snap = await this.getSnapshot(id);
      if (!snap) throw new HubError('not_found', `workspace ${id} not found`);
      const { patch, value, event } = decide(snap.workspace);
      if (patch === null) return { before: snap.workspace, written: null, value };
      const written = await this.compareAndSet(snap, patch, event);
      if (written) return { before: snap.workspace, written, value };
      if (attempt >= DECIDE_ATTEMPTS)
        throw new HubError('conflict', `workspace ${id} keeps changing; try again`);
    }
  }

  /**
   * One write, applied only if the document has not changed since `snap` was
   * read (Firestore's update-time precondition): a transaction's guarantee for
   * a single document without its extra round trips. Returns the written
   * snapshot, or null when someone else wrote first. An `event` travels in the
   * same commit, so it is recorded exactly when the change is.
   */
  async compareAndSet(
    snap: WorkspaceSnapshot,
    patch: Partial<Workspace>,
    event?: EventDraft,
  ): Promise<WorkspaceSnapshot | null> {
    const { after, fields } = this.next(snap, patch, event?.at);
    try {
      if (event && this.events) {
        const batch = this.db.batch();
        batch.update(this.ref(after.id), fields, { lastUpdateTime: snap.updateTime });
        this.events.writeIn(batch, after.id, snap.workspace, after, event);
        const [written] = await firestoreCall(this.db, () => batch.commit());
        return { workspace: after, updateTime: written!.writeTime };
      }
      const r = await firestoreCall(this.db, () =>
        this.ref(after.id).update(fields, { lastUpdateTime: snap.updateTime }),
      );
      return { workspace: after, updateTime: r.writeTime };
    } catch (err) {
      if (isPreconditionFailure(err)) return null;
      throw err;
    }
  }
}

/** FAILED_PRECONDITION: changed since read; NOT_FOUND: deleted since read. */
function isPreconditionFailure(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 9 || code === 5;
}

/** What `decideAndSet` did: the workspace it decided on, its write (`null`: none), the decision. */
export interface Decided<T> {
  before: Workspace;
  written: WorkspaceSnapshot | null;
  value: T;
}

/** A workspace as read, with the document's update time. */
export interface WorkspaceSnapshot {
  workspace: Workspace;
  updateTime: Timestamp;
}
