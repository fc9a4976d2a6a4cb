import { createHash } from 'node:crypto';
import {
  FieldPath,
  type Firestore,
  type Query,
  Timestamp,
  type Transaction,
} from '@google-cloud/firestore';
import type { Workspace, WorkspaceStatus } from '@workspace-hub/api';
import { HubError } from '../errors.js';
import { agentTokenRef } from './agent-token-store.js';
import { decodeWorkspace, encodeWorkspace } from './firestore-codec.js';
import { decodePageToken, encodePageToken } from './page-token.js';

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
}

/**
 * Workspace state in Firestore. Every write goes through a transaction that
 * re-reads the document and bumps `version`, so concurrent writers serialize
 * and a claim made from a stale read is refused.
 */
export class WorkspaceStore {
  constructor(readonly db: Firestore) {}

  private ref(id: string) {
    return this.db.collection(WORKSPACES).doc(id);
  }

  async get(id: string): Promise<Workspace | null> {
    return (await this.getSnapshot(id))?.workspace ?? null;
  }

  /** The workspace with its update time, for a later `compareAndSet`. */
  async getSnapshot(id: string): Promise<WorkspaceSnapshot | null> {
    const snap = await this.ref(id).get();
    return snap.exists
      ? { workspace: decodeWorkspace(snap.data()!), updateTime: snap.updateTime! }
      : null;
  }

  /** Creates `ws`; returns the existing one instead when the idempotency key was used before. */
  async create(
    ws: Workspace,
    opts: CreateOptions = {},
  ): Promise<{ workspace: Workspace; created: boolean }> {
    const keyRef = opts.idempotencyKey
      ? this.db
          .collection(IDEMPOTENCY_KEYS)
          .doc(
            createHash('sha256').update(`${ws.owner_id}\u0000${opts.idempotencyKey}`).digest('hex'),
          )
      : null;
    return this.db.runTransaction(async (tx) => {
      if (keyRef) {
        const key = await tx.get(keyRef);
        const expiresAt = key.get(IDEMPOTENCY_KEY_EXPIRY_FIELD) as Timestamp | undefined;
        if (key.exists && (!expiresAt || expiresAt.toMillis() > Date.now())) {
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
      tx.create(this.ref(ws.id), encodeWorkspace(ws));
      if (keyRef) {
        const now = Timestamp.now();
        tx.set(keyRef, {
          workspace_id: ws.id,
          owner_id: ws.owner_id,
          created_at: now,
          [IDEMPOTENCY_KEY_EXPIRY_FIELD]: Timestamp.fromMillis(
            now.toMillis() + IDEMPOTENCY_KEY_TTL_MS,
          ),
        });
      }
      return { workspace: ws, created: true };
    }, TRANSACTION_OPTIONS);
  }

  /**
   * Reads the workspace in a transaction, lets `decide` choose a mutation, and
   * writes it with `version + 1`. `decide` may run more than once (Firestore
   * retries contended transactions), so it must be pure.
   */
  async mutate<T>(
    id: string,
    decide: (ws: Workspace, tx: Transaction) => { mutation: Mutation; value: T },
  ): Promise<MutateResult<T>> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.ref(id));
      if (!snap.exists) throw new HubError('not_found', `workspace ${id} not found`);
      const before = decodeWorkspace(snap.data()!);
      const { mutation, value } = decide(before, tx);
      if (mutation === null) return { before, after: before, written: false, value };
      if (mutation === 'delete') {
        tx.delete(this.ref(id), { lastUpdateTime: snap.updateTime! });
        // The workspace is gone for good: its agent's credential goes with it, in
        // the same write, whichever path (hub, cleanup, Eventarc) removes it.
        tx.delete(agentTokenRef(this.db, id));
        return { before, after: null, written: true, value };
      }
      const after: Workspace = {
        ...before,
        ...mutation,
        version: before.version + 1,
        updated_at: new Date().toISOString(),
      };
      tx.set(this.ref(id), encodeWorkspace(after), {});
      return { before, after, written: true, value };
    }, TRANSACTION_OPTIONS);
  }

  /** Applies `patch` only if the document is still at `version`; returns null otherwise. */
  async updateIfVersion(
    id: string,
    version: number,
    patch: Partial<Workspace>,
  ): Promise<Workspace | null> {
    const r = await this.mutate(id, (ws) => ({
      mutation: ws.version === version ? patch : null,
      value: ws.version === version,
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
    const snap = await q.limit(opts.limit + 1).get();
    const docs = snap.docs.slice(0, opts.limit);
    const workspaces = docs.map((d) => decodeWorkspace(d.data()));
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
    let pending = q.limit(pageSize + 1).get();
    for (;;) {
      const snap = await pending;
      const docs = snap.docs.slice(0, pageSize);
      const more = snap.size > pageSize;
      if (!docs.length) return;
      if (more) {
        const last = docs.at(-1)!;
        pending = q
          .startAfter(last.get(field), last.id)
          .limit(pageSize + 1)
          .get();
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
    items: ReadonlyArray<{ snap: WorkspaceSnapshot; patch: Partial<Workspace> }>,
  ): Promise<Array<WorkspaceSnapshot | null>> {
    const out: Array<WorkspaceSnapshot | null> = [];
    for (let i = 0; i < items.length; i += 500) {
      const chunk = items.slice(i, i + 500);
      const writes = chunk.map(({ snap, patch }) => this.next(snap, patch));
      const batch = this.db.batch();
      chunk.forEach(({ snap }, k) => {
        const { after, fields } = writes[k]!;
        batch.update(this.ref(after.id), fields, { lastUpdateTime: snap.updateTime });
      });
      try {
        const written = await batch.commit();
        out.push(
          ...writes.map(({ after }, k) => ({
            workspace: after,
            updateTime: written[k]!.writeTime,
          })),
        );
      } catch (err) {
        if (!isPreconditionFailure(err)) throw err;
        out.push(
          ...(await Promise.all(chunk.map(({ snap, patch }) => this.compareAndSet(snap, patch)))),
        );
      }
    }
    return out;
  }

  /**
   * The workspace after `patch`, and the fields to send: only what changed,
   * since the update-time precondition already pins everything else.
   */
  private next(
    snap: WorkspaceSnapshot,
    patch: Partial<Workspace>,
  ): { after: Workspace; fields: Record<string, unknown> } {
    const changes = {
      ...patch,
      version: snap.workspace.version + 1,
      updated_at: new Date().toISOString(),
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
    decide: (ws: Workspace) => { patch: Partial<Workspace> | null; value: T },
  ): Promise<Decided<T>> {
    for (let attempt = 0; ; attempt++) {
      const snap = await this.getSnapshot(id);
      if (!snap) throw new HubError('not_found', `workspace ${id} not found`);
      const { patch, value } = decide(snap.workspace);
      if (patch === null) return { before: snap.workspace, written: null, value };
      const written = await this.compareAndSet(snap, patch);
      if (written) return { before: snap.workspace, written, value };
      if (attempt >= DECIDE_ATTEMPTS)
        throw new HubError('conflict', `workspace ${id} keeps changing; try again`);
    }
  }

  /**
   * One write, applied only if the document has not changed since `snap` was
   * read (Firestore's update-time precondition): a transaction's guarantee for
   * a single document without its extra round trips. Returns the written
   * snapshot, or null when someone else wrote first.
   */
  async compareAndSet(
    snap: WorkspaceSnapshot,
    patch: Partial<Workspace>,
  ): Promise<WorkspaceSnapshot | null> {
    const { after, fields } = this.next(snap, patch);
    try {
      const r = await this.ref(after.id).update(fields, {
        lastUpdateTime: snap.updateTime,
      });
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
