import { setTimeout as delay } from 'node:timers/promises';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { describe, expect, it } from 'vitest';
import { closeFirestore, firestoreCall } from './firestore-calls.js';
import { OrphanStore } from './orphan-store.js';

/** A transaction held open until `release`: a Firestore call under way for as long as wanted. */
function heldTransaction(db: ReturnType<typeof testFirestore>['db']) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const ref = db.collection('held').doc('one');
  const call = firestoreCall(db, () =>
    db.runTransaction(async (tx) => {
      await tx.get(ref);
      await gate;
      tx.set(ref, { written: true });
    }),
  );
  return { call, release, ref };
}

describe('closing Firestore', () => {
  it('waits for the calls under way, refusing new ones meanwhile, then terminates the client', async () => {
    const { db } = testFirestore();
    const held = heldTransaction(db);
    await delay(200);
    let closed: number | null = null;
    const closing = closeFirestore(db, 10_000).then((n) => {
      closed = n;
    });
    await expect(new OrphanStore(db).allMarkers()).rejects.toMatchObject({
      code: 'upstream_unavailable',
    });
    await delay(200);
    expect(closed).toBeNull();
    held.release();
    await held.call;
    await closing;
    expect(closed).toBe(0);
    // Terminated: the client itself refuses (a write, which reports it to its caller).
    await expect(held.ref.set({ after: true })).rejects.toThrow(/terminated/);
  });

  it('abandons a call still under way after the grace, terminating the client only after it', async () => {
    const { db } = testFirestore();
    const held = heldTransaction(db);
    await delay(200);
    expect(await closeFirestore(db, 100)).toBe(1);
    // The abandoned call still has its client: its commit goes through.
    held.release();
    await expect(held.call).resolves.toBeUndefined();
    await delay(200);
    await expect(held.ref.set({ after: true })).rejects.toThrow(/terminated/);
  });
});
