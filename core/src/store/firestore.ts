import { Firestore } from '@google-cloud/firestore';

/**
 * The one way to open Firestore. Against Google it prefers REST (no gRPC load:
 * faster cold start on Cloud Run); the emulator is reached over gRPC, the only
 * transport the client authenticates there without credentials.
 */
export function createFirestore(projectId: string): Firestore {
  const emulator = process.env.FIRESTORE_EMULATOR_HOST;
  return new Firestore({
    projectId,
    ignoreUndefinedProperties: true,
    ...(emulator ? {} : { preferRest: true }),
  });
}

/** A small read that succeeds only when Firestore answers: the hub's readiness probe. */
export async function probeFirestore(db: Firestore): Promise<void> {
  await db.collection('hub').doc('readiness').get();
}
