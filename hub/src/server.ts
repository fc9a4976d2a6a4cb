import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { getPath } from 'hono/utils/url';
import type { HubConfig } from './config.js';
import type { DriverFactory, HubDeps } from './deps.js';
import type { NodeBindings } from './env.js';
import { createLogger } from './log.js';
import type { Terminals } from './terminal/index.js';
import { HUB_VERSION } from './version.js';

const noop = () => undefined;

/**
 * How long closing may take: Cloud Run kills the container 10 s after SIGTERM (its container
 * runtime contract); what is still running after this is left, with a warning, before then.
 */
export const SHUTDOWN_BUDGET_MS = 8_000;

export interface RunningHub {
  url: string;
  port: number;
  /** Resolves once the full app (Firestore, driver, routes) is loaded. */
  ready: Promise<void>;
  /** The app's dependencies, once loaded (tests reach the stores and the agent link here). */
  deps: Promise<HubDeps>;
  /** Requests answered so far, probes aside: unchanged means nothing was written meanwhile. */
  answered(): number;
  /** The browser terminals' sockets, once the first one opened. */
  terminals(): Pick<Terminals, 'size' | 'bufferedBytes'> | null;
  /** Stops accepting, then closes Firestore within SHUTDOWN_BUDGET_MS (see there); a second call answers as the first. */
  close(): Promise<void>;
}

/** What a launcher adds to the hub it starts (`npm start`: the local driver, its restore). */
export interface StartOptions {
  /** Builds the compute driver; the hub builds the `gce` one itself. */
  driver?: DriverFactory;
  /** Runs once the dependencies are built, before any request is served. */
  beforeServing?: (deps: HubDeps) => Promise<void>;
}

/**
 * Starts the HTTP server at once and loads the app behind it in the
 * background: Cloud Run's startup probe (`/health`) is answered within
 * milliseconds of process start, while Firestore's and the routes' modules
 * (hundreds of ms) load; other requests wait for them.
 */
export async function startHub(
  config: HubConfig,
  hostname = '0.0.0.0',
  options: StartOptions = {},
): Promise<RunningHub> {
  const log = createLogger();
  const loading = (async () => {
    const [{ buildDeps }, { createApp }, { guardFirestore }] = await Promise.all([
      import('./wiring.js'),
      import('./app.js'),
      import('./http/firestore-guard.js'),
    ]);
    const deps: HubDeps = await buildDeps(config, { log, driverFactory: options.driver });
    await options.beforeServing?.(deps);
    // Warms the Firestore client while nothing waits on it yet (and learns its state).
    deps.firestore.check().catch(noop);
    const app = createApp(deps);
    return {
      deps,
      fetch: guardFirestore(deps.firestore, async (req, env) => app.fetch(req, env), log),
    };
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
    new Response(
      JSON.stringify({
        ok: true,
        version: HUB_VERSION,
        firestore: 'unknown',
        auth: config.HUB_AUTH,
      }),
      {
        headers: { 'content-type': 'application/json' },
      },
    );
  let answered = 0;
  // `env` carries Node's request (`incoming`): the upload reads its body there (routes/files.ts).
  const fetch = async (req: Request, env?: NodeBindings) => {
    // The path as Hono's router reads it, without parsing a URL per request.
    const path = getPath(req);
    if (!loaded && path === '/health' && req.method === 'GET') return health();
    try {
      return await (await loading).fetch(req, env);
    } finally {
      if (path !== '/health' && path !== '/ready') answered++;
    }
  };
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch, port: config.PORT, hostname }, () => resolve(s));
  });
  // The terminal's module (and `ws`) loads with the first WebSocket, not at cold start.
  let terminals: Promise<Terminals> | null = null;
  let terminalsLoaded: Terminals | null = null;
  const terminalsOf = (l: Awaited<typeof loading>) => {
    terminals ??= import('./terminal/index.js').then((m) => {
      terminalsLoaded = m.createTerminals(l.deps, l.fetch);
      return terminalsLoaded;
    });
    return terminals;
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    loading
      .then(terminalsOf)
      .then((t) => t.upgrade(req, socket, head))
      .catch(() => socket.destroy());
  });
  const closeHub = async (): Promise<void> => {
    const startedAt = Date.now();
    // Open sockets would hold the server open; the pages reconnect to another instance.
    (await terminals)?.closeAll();
    await new Promise<void>((r) => {
      // A request still under way (a download read slowly, a body still arriving) would hold
      // close() open past Cloud Run's SIGKILL and leave Firestore no time: it gets half the
      // budget, then its connection is cut (a download resumes with Range from another instance).
      const cut = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, SHUTDOWN_BUDGET_MS / 2);
      server.close(() => {
        clearTimeout(cut);
        r();
      });
    });
    const { deps } = await loading;
    deps.agentLink.close();
    await deps.driver.close?.();
    deps.firestore.stop();
    const { closeFirestore } = await import('@workspace-hub/core');
    // Requests answered 503 during an outage leave Firestore calls retrying in the client
    // library, for up to a minute: they get what is left of the shutdown budget, then are
    // left to end in the background (the client is terminated after them, never under them).
    const abandoned = await closeFirestore(
      deps.db,
      Math.max(0, startedAt + SHUTDOWN_BUDGET_MS - Date.now()),
      (message, fields) => log.warn(message, fields),
    );
    if (abandoned)
      log.warn('Firestore calls still retrying at shutdown were left to end by themselves', {
        calls: abandoned,
      });
  };
  let closing: Promise<void> | null = null;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    ready: loading.then(() => undefined),
    deps: loading.then((l) => l.deps),
    answered: () => answered,
    terminals: () => terminalsLoaded,
    close: () => {
      closing ??= closeHub();
      return closing;
    },
  };
}
