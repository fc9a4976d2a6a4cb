import type { Firestore } from '@google-cloud/firestore';
import { firestoreCall } from './firestore-calls.js';

/** One marker per orphan instance (`<zone>.<name>`), kept while it has no workspace document. */
export const ORPHANS = 'orphan_instances';

/** An instance of ours the cleanup sweep found without a workspace document, and when first. */
export interface OrphanMarker {
  zone: string;
  name: string;
  firstSeenMs: number;
}

/** The cleanup sweep's memory of orphan instances: how long each has been one. */
export class OrphanStore {
  constructor(private readonly db: Firestore) {}

  private ref(zone: string, name: string) {
    return this.db.collection(ORPHANS).doc(`${zone}.${name}`);
  }

  /** Every marker; orphans are rare, so one query reads them all. */
  async allMarkers(): Promise<OrphanMarker[]> {
    const snap = await firestoreCall(this.db, () => this.db.collection(ORPHANS).get());
    return snap.docs.map((d) => ({
      zone: String(d.get('zone')),
      name: String(d.get('name')),
      firstSeenMs: Number(d.get('first_seen_ms')),
    }));
  }

  /** Remembers that instance `name` in `zone` was first seen orphaned at `firstSeenMs`. */
  async markFirstSeen(zone: string, name: string, firstSeenMs: number): Promise<void> {
    await firestoreCall(this.db, () =>
      this.ref(zone, name).set({ first_seen_ms: firstSeenMs, name, zone }),
    );
  }

  /** Forgets an instance: it has a document again, is gone, or an admin deleted it. */
  async forget(zone: string, name: string): Promise<void> {
    await firestoreCall(this.db, () => this.ref(zone, name).delete());
  }
}
