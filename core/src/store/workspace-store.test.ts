import { Timestamp } from '@google-cloud/firestore';
import type { Workspace } from '@workspace-hub/api';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleWorkspace } from '../../test/sample-workspace.js';
import { isHubError } from '../errors.js';
import { encodeWorkspace } from './firestore-codec.js';
import {
  IDEMPOTENCY_KEY_EXPIRY_FIELD,
  IDEMPOTENCY_KEY_TTL_MS,
  IDEMPOTENCY_KEYS,
  WorkspaceStore,
} from './workspace-store.js';

const { db } = testFirestore();
const store = new WorkspaceStore(db);

function sample(owner: string, createdAt: Date): Workspace {
  const t = createdAt.toISOString();
  return sampleWorkspace({
    owner_id: owner,
    owner_email: `${owner}@example.com`,
    last_activity_at: t,
    operation: { name: null, kind: 'insert', started_at: t },
    created_at: t,
    updated_at: t,
  });
}

afterAll(() => db.terminate());

describe('WorkspaceStore', () => {
  const base = Date.parse('2026-01-01T00:00:00Z');
  beforeAll(async () => {
    for (let i = 0; i < 7; i++) await store.create(sample('alice', new Date(base + i * 1000)));
    await store.create(sample('bob', new Date(base)));
  });

  it('round-trips a workspace with times as ISO strings', async () => {
    const ws = sample('carol', new Date(base));
    await store.create(ws);
    expect(await store.get(ws.id)).toEqual(ws);
  });

  it('pages through one owner, newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({ ownerId: 'alice', limit: 3, pageToken: token });
      seen.push(...page.workspaces.map((w) => w.created_at));
      token = page.nextPageToken ?? undefined;
    } while (token);
    expect(seen).toHaveLength(7);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('rejects a forged page token naming the field', async () => {
    const err = await store.list({ limit: 3, pageToken: 'bm90LWpzb24' }).catch((e) => e);
    expect(isHubError(err, 'invalid_argument')).toBe(true);
    expect(err.extra.field).toBe('page_token');
  });

  it('bumps the version on every write and serializes concurrent mutations', async () => {
    const ws = sample('dave', new Date(base));
    await store.create(ws);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        store.mutate(ws.id, (cur) => ({
          mutation: { idle_timeout_minutes: cur.idle_timeout_minutes + 1 },
          value: null,
        })),
      ),
    );
    const after = await store.get(ws.id);
    expect(after?.version).toBe(11);
    expect(after?.idle_timeout_minutes).toBe(250);
  });

  it('returns the first workspace for a repeated idempotency key and enforces the quota', async () => {
    const a = sample('erin', new Date(base));
    const b = sample('erin', new Date(base));
    const first = await store.create(a, { idempotencyKey: 'k1', maxPerOwner: 1 });
    const again = await store.create(b, { idempotencyKey: 'k1', maxPerOwner: 1 });
    expect(first.created).toBe(true);
    expect(again).toEqual({ workspace: a, created: false });
    const over = await store.create(b, { maxPerOwner: 1 }).catch((e) => e);
    expect(isHubError(over, 'quota_exceeded')).toBe(true);
  });

  it('lets an idempotency key expire: it carries the TTL field, and an expired key is not honoured', async () => {
    const a = sample('gina', new Date(base));
    const before = Date.now();
    await store.create(a, { idempotencyKey: 'k-expiring' });
    const keys = await db.collection(IDEMPOTENCY_KEYS).where('workspace_id', '==', a.id).get();
    expect(keys.size).toBe(1);
    const key = keys.docs[0]!;
    const expiresAt = (key.get(IDEMPOTENCY_KEY_EXPIRY_FIELD) as Timestamp).toMillis();
    expect(expiresAt).toBeGreaterThanOrEqual(before + IDEMPOTENCY_KEY_TTL_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + IDEMPOTENCY_KEY_TTL_MS);

    // Firestore's TTL deletes some time after expiry; until then the key must not count.
    await key.ref.update({ [IDEMPOTENCY_KEY_EXPIRY_FIELD]: Timestamp.fromMillis(Date.now() - 1) });
    const b = sample('gina', new Date(base));
    const retried = await store.create(b, { idempotencyKey: 'k-expiring' });
    // A new workspace, so a name of its own.
    expect(retried).toEqual({ workspace: { ...b, name: 'workspace-2' }, created: true });
  });

  it('applies many compare-and-set writes together, refusing only the one changed since read', async () => {
    const made = Array.from({ length: 5 }, () => sample('frank', new Date(base)));
    for (const ws of made) await store.create(ws);
    const snaps = await Promise.all(made.map(async (ws) => (await store.getSnapshot(ws.id))!));
    // Someone else writes the third one after it was read.
    await store.mutate(made[2]!.id, () => ({ mutation: { status: 'ERROR' }, value: null }));

    const results = await store.compareAndSetMany(
      snaps.map((snap) => ({ snap, patch: { status: 'READY', status_reason: 'claimed' } })),
    );
    expect(results.map((r) => r?.workspace.status ?? null)).toEqual([
      'READY',
      'READY',
      null,
      'READY',
      'READY',
    ]);
    const stored = await Promise.all(made.map((ws) => store.get(ws.id)));
    expect(stored.map((ws) => ws?.status)).toEqual(['READY', 'READY', 'ERROR', 'READY', 'READY']);
    // What the caller is told was written is what a reader gets back.
    expect(stored[0]).toEqual(results[0]!.workspace);
    expect(stored[0]).toMatchObject({ machine_type: 'e2-standard-4', version: 2 });
  });

  it('writes more workspaces and their events than one commit holds, answering in input order', async () => {
    // 260 workspaces, each with its event, are 520 writes: over one commit's 500.
    const made = Array.from({ length: 260 }, () => sample('ivy', new Date(base)));
    for (let i = 0; i < made.length; i += 100) {
      const batch = db.batch();
      for (const ws of made.slice(i, i + 100))
        batch.create(db.collection('workspaces').doc(ws.id), encodeWorkspace(ws));
      await batch.commit();
    }
    const snaps = await Promise.all(made.map(async (ws) => (await store.getSnapshot(ws.id))!));
    const results = await store.compareAndSetMany(
      snaps.map((snap, i) => ({
        snap,
        patch: { status: 'SUSPENDING', status_reason: `claim ${i}` },
        event: {
          actor: { kind: 'idle_sweep' },
          action: 'stop',
          outcome: 'accepted',
          at: new Date(),
        },
      })),
    );
    expect(results.map((r) => r?.workspace.id)).toEqual(made.map((ws) => ws.id));
    expect(results.map((r) => r?.workspace.status_reason)).toEqual(
      made.map((_, i) => `claim ${i}`),
    );
    const last = made.at(-1)!;
    expect((await store.get(last.id))?.status_reason).toBe('claim 259');
    const events = await store.events!.list(last.id, { limit: 10, now: new Date() });
    expect(events.events.map((e) => e.outcome)).toEqual(['accepted']);
  });

  it('tells which ids have a document, in one read', async () => {
    const [a, b] = [sample('hal', new Date(base)), sample('hal', new Date(base))];
    await store.create(a);
    await store.create(b);
    const missing = sample('hal', new Date(base)).id;
    expect(await store.existingIds([a.id, missing, b.id])).toEqual(new Set([a.id, b.id]));
    expect(await store.existingIds([])).toEqual(new Set());
  });
});
