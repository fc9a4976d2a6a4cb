import type { TestProject } from 'vitest/node';
import { type FirestoreEmulator, startFirestoreEmulator } from './firestore-emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    firestoreEmulatorHost: string;
  }
}

let emulator: FirestoreEmulator | undefined;

/** One emulator for the whole run; each test file isolates itself by project id. */
export async function setup(project: TestProject) {
  let host = process.env.FIRESTORE_EMULATOR_HOST;
  if (!host) {
    emulator = await startFirestoreEmulator();
    host = emulator.host;
  }
  process.env.FIRESTORE_EMULATOR_HOST = host;
  project.provide('firestoreEmulatorHost', host);
}

export async function teardown() {
  await emulator?.stop();
}
