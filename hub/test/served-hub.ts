import { createGceDriver } from '@workspace-hub/core';
import { type ComputeFake, freePort, startComputeFake } from '@workspace-hub/testing';
import { loadConfig } from '../src/config.js';
import { type RunningHub, startHub } from '../src/server.js';

/**
 * A real hub serving on a loopback port, as `main.ts` starts it (gce driver on a Compute fake of
 * its own, dev auth), over the Firestore at `firestoreHost`; not yet waited for (`hub.ready`).
 * The caller closes the hub, then the fake.
 */
export async function startServedHub(
  projectId: string,
  firestoreHost: string,
): Promise<{ hub: RunningHub; fake: ComputeFake }> {
  const fake = await startComputeFake({ project: projectId });
  try {
    const config = loadConfig({
      HUB_DRIVER: 'gce',
      HUB_AUTH: 'dev',
      HUB_URL: 'https://hub.example.test',
      HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace:v1',
      HUB_COMPUTE_ENDPOINT: fake.endpoint,
      PORT: String(await freePort()),
      GOOGLE_CLOUD_PROJECT: projectId,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
    });
    const hub = await startHub(config, '127.0.0.1', {
      driver: () =>
        createGceDriver({ projectId, endpoint: fake.endpoint, authClient: fake.authClient }),
    });
    return { hub, fake };
  } catch (err) {
    await fake.close();
    throw err;
  }
}
