import { join, resolve } from 'node:path';
import { unrecordedFolders } from '@workspace-hub/core';
import { ConfigError, type HubConfig, loadConfig } from '@workspace-hub/hub';
import { EmulatorSnapshots, startFirestoreEmulator } from '@workspace-hub/testing';
import { keepEmulatorData } from './emulator-data.js';
import { startLocalHub } from './hub.js';

/**
 * `npm start`: the whole hub on one machine. Starts a Firestore emulator
 * (unless FIRESTORE_EMULATOR_HOST points at one) from the data saved under
 * HUB_DATA_DIR, then the hub with the local driver and dev identities, whose
 * workspaces come back from their folders; Ctrl-C stops everything it started
 * and saves the data.
 */
async function main() {
  // No metadata server on a laptop: don't let Google's libraries probe for one.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const env = { ...process.env, HUB_DRIVER: 'local', HUB_AUTH: 'dev' };
  let config: HubConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const dataDir = resolve(config.HUB_DATA_DIR);
  const snapshots = new EmulatorSnapshots(join(dataDir, 'firestore'), config.GOOGLE_CLOUD_PROJECT);
  const ownEmulator = !config.FIRESTORE_EMULATOR_HOST;
  if (ownEmulator) snapshots.prune();
  const emulator = ownEmulator
    ? await startFirestoreEmulator({ importData: snapshots.latest() ?? undefined })
    : null;
  // The hub's Firestore client and the driver (which keeps the emulator's port
  // from the workspaces' `ssh -L`) both take the emulator from the config.
  if (emulator) config = { ...config, FIRESTORE_EMULATOR_HOST: emulator.host };
  const hub = await startLocalHub(config);
  try {
    await hub.ready;
  } catch (err) {
    await emulator?.stop();
    throw err;
  }
  const persist = emulator
    ? keepEmulatorData(snapshots, emulator.host, hub, (m) => process.stderr.write(`${m}\n`))
    : null;
  const url = `http://127.0.0.1:${hub.port}`;
  // Folders no instance record describes (made before records were kept, or
  // damaged) are no workspace's. They may hold work: say so, never delete them.
  const homes = join(dataDir, 'workspaces');
  const leftovers = unrecordedFolders(homes);
  process.stderr.write(
    [
      '',
      `Workspace Hub (local mode) is listening on ${url}`,
      `  Firestore emulator: ${config.FIRESTORE_EMULATOR_HOST}${emulator ? ` (started here; data kept in ${join(dataDir, 'firestore')}/)` : ''}`,
      `  workspaces: agent processes on 127.0.0.1, homes under ${homes}/`,
      ...(leftovers.length
        ? [
            `  note: ${leftovers.length} folder(s) there belong to no workspace (kept; admins see them in GET /admin/orphans; remove them when done):`,
            ...leftovers.map((dir) => `    ${dir}`),
          ]
        : []),
      '',
      'Quick start (another terminal):',
      `  export WSH_HUB=${url} WSH_DEV_EMAIL=you@example.com`,
      '  npx wsh create                 # waits until READY, prints its name and id',
      '  npx wsh ssh <workspace>        # its persistent terminal "main" (leave with ~.)',
      'Ctrl-C in this terminal stops the hub, its workspaces and the emulator.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nStopping the hub, its workspaces and the emulator…\n');
    await hub.close().catch(() => {});
    await persist?.final();
    await emulator?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

await main();
