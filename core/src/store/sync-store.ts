import { createHash } from 'node:crypto';
import { type Firestore, Timestamp } from '@google-cloud/firestore';
import type { SyncBlob } from '@workspace-hub/api';
import { HubError } from '../errors.js';
import { firestoreCall } from './firestore-calls.js';

export const SYNC_BLOBS = 'sync_blobs';
export const SYNC_NAME_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** Firestore documents stop at 1 MiB; leave room for the other fields. */
export const SYNC_MAX_BYTES = 512 * 1024;

function etagOf(version: number, content: string) {
  return `"${version}-${createHash('sha256').update(content).digest('hex').slice(0, 16)}"`;
}

/** Per-user settings blobs with optimistic concurrency: a stale writer is refused, never merged. */
export class SyncStore {
  constructor(private readonly db: Firestore) {}

  private ref(ownerId: string, name: string) {
    return this.db
      .collection(SYNC_BLOBS)
      .doc(`${Buffer.from(ownerId).toString('base64url')}.${name}`);
  }

  async get(ownerId: string, name: string): Promise<SyncBlob | null> {
    const snap = await firestoreCall(this.db, () => this.ref(ownerId, name).get());
    return snap.exists ? decode(snap.data()!) : null;
  }

  /**
   * Writes when `ifMatch` is the current ETag, or `ifMatch` is `*`/absent and the
   * blob does not exist yet (absent means create-only: nothing is overwritten blind).
   */
  async put(
    ownerId: string,
    name: string,
    content: string,
    opts: { ifMatch?: string; deviceId?: string | null },
  ): Promise<SyncBlob> {
    if (!SYNC_NAME_PATTERN.test(name))
      throw new HubError(
        'invalid_argument',
        'name: letters, digits, dot, dash, underscore; 1-128',
        {
          field: 'name',
        },
      );
    if (Buffer.byteLength(content) > SYNC_MAX_BYTES)
      throw new HubError('invalid_argument', `content: at most ${SYNC_MAX_BYTES} bytes`, {
        field: 'content',
      });
    const ref = this.ref(ownerId, name);
    return firestoreCall(this.db, () =>
      this.db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const cur = snap.exists ? decode(snap.data()!) : null;
        if (cur && opts.ifMatch !== cur.etag)
          throw new HubError(
            'precondition_failed',
            opts.ifMatch
              ? `${name} changed since you read it (now ${cur.etag}, from ${cur.device_id ?? 'another device'})`
              : `${name} exists; send If-Match with its ETag to replace it`,
            { current_etag: cur.etag },
          );
        if (!cur && opts.ifMatch && opts.ifMatch !== '*')
          throw new HubError('precondition_failed', `${name} does not exist`);
        const version = (cur?.version ?? 0) + 1;
        const blob: SyncBlob = {
          name,
          content,
          version,
          etag: etagOf(version, content),
          device_id: opts.deviceId ?? null,
          updated_at: new Date().toISOString(),
        };
        tx.set(ref, { ...blob, owner_id: ownerId, updated_at: Timestamp.now() });
        return blob;
      }),
    );
  }

  async list(ownerId: string): Promise<Omit<SyncBlob, 'content'>[]> {
    const snap = await firestoreCall(this.db, () =>
      this.db.collection(SYNC_BLOBS).where('owner_id', '==', ownerId).get(),
    );
    return snap.docs
      .map((d) => {
        const { content: _c, ...rest } = decode(d.data());
        return rest;
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

function decode(d: Record<string, unknown>): SyncBlob {
  const t = d.updated_at;
  return {
    name: String(d.name),
    content: String(d.content),
    version: Number(d.version),
    etag: String(d.etag),
    device_id: (d.device_id as string | null) ?? null,
    updated_at: t instanceof Timestamp ? t.toDate().toISOString() : String(t),
  };
}
