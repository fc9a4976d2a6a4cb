import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FirestoreEmulator,
  freePort,
  refusesConnections,
  startFirestoreEmulator,
} from '@workspace-hub/testing';
import { loadConfig } from '../src/config.js';
import { type RunningHub, startHub } from '../src/server.js';

/**
 * A real hub (local driver, dev auth) over a Firestore emulator of its own, one
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
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
  let hub: RunningHub | undefined;
  const close = async () => {
    await hub?.close();
    await emulator?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const config = loadConfig({
      HUB_DRIVER: 'local',
      HUB_AUTH: 'dev',
      PORT: String(await freePort()),
      GOOGLE_CLOUD_PROJECT: `${name}-${Date.now()}`,
      FIRESTORE_EMULATOR_HOST: emulator.host,
      HUB_DATA_DIR: dataDir,
    });
    hub = await startHub(config, '127.0.0.1');
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
