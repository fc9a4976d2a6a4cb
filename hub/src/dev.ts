import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFirestoreEmulator } from '@workspace-hub/testing';
import { ConfigError, loadConfig } from './config.js';
import { startHub } from './server.js';

/**
 * `npm start`: the whole hub on one machine. Starts a Firestore emulator
 * (unless FIRESTORE_EMULATOR_HOST points at one), then the hub with the local
 * driver and dev identities; Ctrl-C stops everything it started.
 */
async function dev() {
  // No metadata server on a laptop: don't let Google's libraries probe for one.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const env = { ...process.env, HUB_DRIVER: process.env.HUB_DRIVER ?? 'local', HUB_AUTH: 'dev' };
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const emulator = process.env.FIRESTORE_EMULATOR_HOST ? null : await startFirestoreEmulator();
  if (emulator) process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const hub = await startHub(config, '127.0.0.1');
  try {
    await hub.ready;
  } catch (err) {
    await emulator?.stop();
    throw err;
  }
  const url = `http://127.0.0.1:${hub.port}`;
  // The emulator keeps nothing between runs, so folders of earlier runs' workspaces
  // are no workspace's any more. They may hold work: say so, never delete them.
  const homes = join(config.HUB_DATA_DIR, 'workspaces');
  const leftovers = emulator && existsSync(homes) ? readdirSync(homes) : [];
  process.stderr.write(
    [
      '',
      `Workspace Hub (local mode) is listening on ${url}`,
      `  Firestore emulator: ${process.env.FIRESTORE_EMULATOR_HOST}${emulator ? ' (started here)' : ''}`,
      `  workspaces: agent processes on 127.0.0.1, homes under ${homes}/`,
      ...(leftovers.length
        ? [
            `  note: ${leftovers.length} folder(s) there are from earlier runs (not known to this hub); remove them when done`,
          ]
        : []),
      '',
      'Quick start (another terminal):',
      `  export WSH_HUB=${url} WSH_DEV_EMAIL=you@example.com`,
      '  npx wsh create                 # waits until READY',
      '  npx wsh ssh <workspace-id>     # persistent terminal "main"; Ctrl-C here stops everything',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nStopping the hub, its workspaces and the emulator…\n');
    await hub.close().catch(() => {});
    await emulator?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

await dev();
