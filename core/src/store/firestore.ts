import { Firestore } from '@google-cloud/firestore';
import { firestoreCall } from './firestore-calls.js';

export { closeFirestore } from './firestore-calls.js';

/**
 * The one way to open Firestore. Against Google it prefers REST (no gRPC load:
 * faster cold start on Cloud Run); an emulator (`host:port`, as the caller's
 * configuration says) is reached over plain gRPC, the only transport the
 * client authenticates there without credentials.
 */
export function createFirestore(projectId: string, emulatorHost: string | undefined): Firestore {
  return new Firestore({
    projectId,
    ignoreUndefinedProperties: true,
    ...(emulatorHost ? { host: emulatorHost, ssl: false } : { preferRest: true }),
  });
}

/** A small read that succeeds only when Firestore answers: the hub's readiness probe. */
export async function probeFirestore(db: Firestore): Promise<void> {
  await firestoreCall(db, () => db.collection('hub').doc('readiness').get());
}
