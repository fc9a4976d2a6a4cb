import { ConfigError, LOCAL_DRIVER_NOT_WIRED, loadConfig } from './config.js';
import { startHub } from './server.js';

/** The container's entry point: `node hub/dist/main.js`. */
async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config.HUB_DRIVER === 'local') {
    process.stderr.write(`Invalid hub configuration:\n  HUB_DRIVER: ${LOCAL_DRIVER_NOT_WIRED}\n`);
    process.exit(2);
  }
  // Dev identities are anyone's for the asking: such a hub answers on loopback only.
  const hub = await startHub(config, config.HUB_AUTH === 'dev' ? '127.0.0.1' : '0.0.0.0');
  // Serving /health while the app failed to load would hide the failure from Cloud Run.
  hub.ready.catch(() => process.exit(1));
  process.stdout.write(
    `${JSON.stringify({ severity: 'INFO', message: `hub listening on :${hub.port}`, driver: config.HUB_DRIVER, auth: config.HUB_AUTH })}\n`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(
      `${JSON.stringify({ severity: 'INFO', message: `${signal}: shutting down` })}\n`,
    );
    await hub.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();
