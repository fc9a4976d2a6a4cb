import type { Firestore } from '@google-cloud/firestore';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { afterAll } from 'vitest';
import { type WorkspaceSnapshot, WorkspaceStore } from '../src/store/workspace-store.js';

/**
 * A store on which another writer strikes once, right after the next read:
 * what a caller decides from that read is stale by the time it writes, as when
 * a user's `stop` lands between an agent's read and its write.
 */
export class StoreWithRacingWrite extends WorkspaceStore {
  private race: ((store: WorkspaceStore) => Promise<unknown>) | null = null;

  constructor(db: Firestore) {
    super(db);
  }

  /** `write` runs (on an honest store) after the next read, once. */
  raceNextRead(write: (store: WorkspaceStore) => Promise<unknown>): void {
    this.race = write;
  }

  override async getSnapshot(id: string): Promise<WorkspaceSnapshot | null> {
    const snap = await super.getSnapshot(id);
    const race = this.race;
    this.race = null;
    if (race) await race(new WorkspaceStore(this.db));
    return snap;
  }
}

/** A `StoreWithRacingWrite` on the test emulator, in a project of its own, closed after the file. */
export function racingStoreOnEmulator(): StoreWithRacingWrite {
  const { db } = testFirestore();
  afterAll(() => db.terminate());
  return new StoreWithRacingWrite(db);
}
