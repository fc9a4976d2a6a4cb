import { createGceDriver } from '@workspace-hub/core';
import {
  type ComputeFake,
  type FirestoreEmulator,
  freePort,
  refusesConnections,
  startComputeFake,
  startFirestoreEmulator,
} from '@workspace-hub/testing';
import { loadConfig } from '../src/config.js';
import { type RunningHub, startHub } from '../src/server.js';

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
    fake = await startComputeFake({ project: projectId });
    const compute = fake;
    const config = loadConfig({
      HUB_DRIVER: 'gce',
      HUB_AUTH: 'dev',
      HUB_URL: 'https://hub.example.test',
      HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace:v1',
      HUB_COMPUTE_ENDPOINT: compute.endpoint,
      PORT: String(await freePort()),
      GOOGLE_CLOUD_PROJECT: projectId,
      FIRESTORE_EMULATOR_HOST: emulator.host,
    });
    hub = await startHub(config, '127.0.0.1', {
      driver: () =>
        createGceDriver({ projectId, endpoint: compute.endpoint, authClient: compute.authClient }),
    });
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
