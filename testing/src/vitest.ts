import { randomBytes } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { createFirestore } from '@workspace-hub/core';
import { inject } from 'vitest';

/** A Firestore client on the test emulator, in a project of its own. */
export function testFirestore(): { db: Firestore; projectId: string; host: string } {
  const host = inject('firestoreEmulatorHost');
  process.env.FIRESTORE_EMULATOR_HOST = host;
  const projectId = `test-${randomBytes(5).toString('hex')}`;
  return { db: createFirestore(projectId, host), projectId, host };
}
