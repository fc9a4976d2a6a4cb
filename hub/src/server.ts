import { type ServerType, serve } from '@hono/node-server';
import type { HubConfig } from './config.js';
import type { HubDeps } from './deps.js';
import { createLogger } from './log.js';
import { HUB_VERSION } from './version.js';

const noop = () => undefined;

export interface RunningHub {
  url: string;
  port: number;
  /** Resolves once the full app (Firestore, driver, routes) is loaded. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the HTTP server at once and loads the app behind it in the
 * background: Cloud Run's startup probe (`/health`) is answered within
 * milliseconds of process start, while Firestore's and the routes' modules
 * (hundreds of ms) load; other requests wait for them.
 */
export async function startHub(config: HubConfig, hostname = '0.0.0.0'): Promise<RunningHub> {
  const log = createLogger();
  const loading = (async () => {
    const [{ buildDeps }, { createApp }, { guardFirestore }] = await Promise.all([
      import('./wiring.js'),
      import('./app.js'),
      import('./http/firestore-guard.js'),
    ]);
    const deps: HubDeps = await buildDeps(config, { log });
    // Warms the Firestore client while nothing waits on it yet (and learns its state).
    deps.firestore.check().catch(noop);
    const app = createApp(deps);
    return { deps, fetch: guardFirestore(deps.firestore, async (req) => app.fetch(req), log) };
  })();
  loading.catch((err) => {
    log.error('hub failed to start', { error: err instanceof Error ? err.stack : String(err) });
  });
  let loaded: Awaited<typeof loading> | null = null;
  loading.then((l) => {
    loaded = l;
  }, noop);
  // Until the app has loaded, Firestore's state is not known yet.
  const health = () =>
    new Response(JSON.stringify({ ok: true, version: HUB_VERSION, firestore: 'unknown' }), {
      headers: { 'content-type': 'application/json' },
    });
  const fetch = async (req: Request) =>
    !loaded && new URL(req.url).pathname === '/health' && req.method === 'GET'
      ? health()
      : (await loading).fetch(req);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch, port: config.PORT, hostname }, () => resolve(s));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    ready: loading.then(() => undefined),
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      const { deps } = await loading;
      await deps.driver.close?.();
      await deps.db.terminate();
    },
  };
}
