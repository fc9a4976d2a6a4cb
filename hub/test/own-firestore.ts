import {
  type ComputeFake,
  type FirestoreEmulator,
  freePort,
  refusesConnections,
  startFirestoreEmulator,
} from '@workspace-hub/testing';
import type { RunningHub } from '../src/server.js';
import { startServedHub } from './served-hub.js';

/**
 * A real hub (gce driver on the Compute fake, dev auth) over a Firestore emulator of its own, one
 * the test may kill and start again on the same port; the shared emulator of
 * the global setup is left alone.
 */
export interface HubOverOwnFirestore {
  hub: RunningHub;
  /** Kills the emulator and returns once its port refuses connections. */
  stopFirestore(): Promise<void>;
  /** Starts an emulator again on the same port (empty: it keeps data in memory). */
  startFirestoreAgain(): Promise<void>;
  close(): Promise<void>;
}

/** `name` prefixes the data directory and the project id. */
export async function startHubOverOwnFirestore(name: string): Promise<HubOverOwnFirestore> {
  const port = await freePort();
  let emulator: FirestoreEmulator | undefined = await startFirestoreEmulator({ port });
  // The Firestore client finds the emulator through the environment (this test file's process).
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const projectId = `${name}-${Date.now()}`;
  let fake: ComputeFake | undefined;
  let hub: RunningHub | undefined;
  const close = async () => {
    await hub?.close();
    await fake?.close();
    await emulator?.stop();
  };
  try {
    ({ hub, fake } = await startServedHub(projectId, emulator.host));
    await hub.ready;
  } catch (err) {
    await close();
    throw err;
  }
  const running = hub;
  return {
    hub: running,
    async stopFirestore() {
      await emulator?.stop();
      emulator = undefined;
      await refusesConnections(port);
    },
    async startFirestoreAgain() {
      emulator = await startFirestoreEmulator({ port });
    },
    close,
  };
}
