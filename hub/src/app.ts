import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { FILE_CHUNK_BYTES, Health, HubError, SYNC_MAX_BYTES } from '@workspace-hub/core';
import { HTTPException } from 'hono/http-exception';
import { agentAuthentication } from './auth/agent-middleware.js';
import { authenticate } from './auth/middleware.js';
import type { HubDeps } from './deps.js';
import type { HubEnv } from './env.js';
import { type BodyLimit, limitBodies } from './http/body-limit.js';
import {
  firestoreUnavailable,
  isFirestoreUnreachable,
  problemResponse,
  RequestRefused,
  validationError,
} from './http/problem.js';
import { requestLog } from './http/request-log.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerAgentRoutes } from './routes/agent.js';
import { registerCleanupRoute } from './routes/cleanup.js';
import { registerEventRoutes } from './routes/events.js';
import { registerFileRoutes } from './routes/files.js';
import { registerHubSettingsRoute } from './routes/hub-settings.js';
import { registerMeRoutes } from './routes/me.js';
import { problemResponses } from './routes/schemas.js';
import { DEFAULT_WEB_DIR, registerWebPage } from './routes/web-page.js';
import { registerWorkspaceRoutes } from './routes/workspaces.js';
import { registerTerminalRoute } from './terminal/terminal-route.js';
import { HUB_VERSION } from './version.js';

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary:
    'Liveness: 200 while the process serves, whatever Firestore does; `firestore` says what the last check found',
  responses: {
    200: { description: 'Up', content: { 'application/json': { schema: Health } } },
  },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['operations'],
  summary: 'Readiness: 200 when Firestore answers (checked within 2 s), else 503',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Health } } },
    503: problemResponses[503],
  },
});

/** How stale `/health`'s view of Firestore may get before a call to it starts a new probe. */
const HEALTH_PROBE_MAX_AGE_MS = 5_000;

const KiB = 1024;
/** Bodies are small JSON documents; only a settings blob and an upload chunk are large. */
const BODY_LIMITS: BodyLimit[] = [
  // An upload chunk: exactly what a client may send in one request (Cloud Run: 32 MiB at most).
  { pattern: /^\/workspaces\/[^/]+\/files\/content$/, maxBytes: FILE_CHUNK_BYTES },
  // JSON may spell each byte of the content as \u00XX.
  { prefix: '/me/sync/', maxBytes: 6 * SYNC_MAX_BYTES + 4 * KiB },
  { prefix: '/me/keys/', maxBytes: 128 * KiB },
  { prefix: '/workspaces', maxBytes: 64 * KiB },
];
const DEFAULT_BODY_LIMIT = 16 * KiB;

/** What Hono and its validators throw about the request itself, as problems of ours. */
function fromHttpException(err: HTTPException): HubError | RequestRefused | null {
  switch (err.status) {
    case 400:
      return new HubError(
        'invalid_argument',
        `body: ${err.message}`,
        { field: 'body' },
        { cause: err },
      );
    case 413:
      return new RequestRefused('payload_too_large', `body: ${err.message}`, 'body', {
        cause: err,
      });
    case 415:
      return new RequestRefused(
        'unsupported_media_type',
        'content-type: send the body as application/json',
        'content-type',
        { cause: err },
      );
    default:
      return null;
  }
}

/** The hub's HTTP app: composed middleware, then the routes of each area. */
export function createApp(deps: HubDeps): OpenAPIHono<HubEnv> {
  const app = new OpenAPIHono<HubEnv>({
    defaultHook: (result) => {
      // Hono calls the body's target `json`; a problem names it `body`, as for malformed JSON.
      if (!result.success)
        throw validationError(result.error, result.target === 'json' ? 'body' : result.target);
    },
  });

  app.use('*', requestLog(deps.log, deps.config.GOOGLE_CLOUD_PROJECT));
  const auth = authenticate(deps);
  app.use('/workspaces', auth);
  app.use('/workspaces/*', auth);
  app.use('/me', auth);
  app.use('/me/*', auth);
  app.use('/config', auth);
  app.use('/admin/*', auth);
  app.use('/agent/*', agentAuthentication(deps));
  // After authentication, so an unauthenticated body is never read.
  app.use('*', limitBodies(BODY_LIMITS, DEFAULT_BODY_LIMIT));

  app.openapi(healthRoute, (c) => {
    // Never waits on Firestore (a liveness probe must not fail over an outage);
    // the check it starts, at most one per HEALTH_PROBE_MAX_AGE_MS, updates what the next call says.
    deps.firestore.refresh(HEALTH_PROBE_MAX_AGE_MS);
    return c.json(
      {
        ok: true,
        version: HUB_VERSION,
        firestore: deps.firestore.current,
        auth: deps.config.HUB_AUTH,
      },
      200,
    );
  });
  app.openapi(readyRoute, async (c) => {
    if (!(await deps.firestore.check())) throw firestoreUnavailable();
    return c.json(
      { ok: true, version: HUB_VERSION, firestore: 'ok' as const, auth: deps.config.HUB_AUTH },
      200,
    );
  });
  registerWorkspaceRoutes(app, deps);
  registerTerminalRoute(app, deps);
  registerFileRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerMeRoutes(app, deps);
  registerAgentRoutes(app, deps);
  registerCleanupRoute(app, deps);
  registerAdminRoutes(app, deps);
  registerHubSettingsRoute(app, deps);
  registerWebPage(app, deps.webDir ?? DEFAULT_WEB_DIR);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A Google ID token (or, on a local hub, dev:<email>)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'agent', {
    type: 'http',
    scheme: 'bearer',
    description:
      'The VM instance identity token (or, locally, the workspace agent token) plus X-Workspace-Id. Behind Cloud Run send the identity token in X-Serverless-Authorization too: Cloud Run checks that copy and removes its signature, and passes Authorization on untouched for the hub to verify.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Workspace Hub',
      version: HUB_VERSION,
      description: 'Development VMs on Google Cloud',
    },
  });

  app.notFound((c) =>
    problemResponse(c, new HubError('not_found', `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((err, c) => {
    if (err instanceof HubError || err instanceof RequestRefused) return problemResponse(c, err);
    if (isFirestoreUnreachable(err)) {
      deps.firestore.markUnavailable();
      return problemResponse(c, firestoreUnavailable());
    }
    const refused = err instanceof HTTPException ? fromHttpException(err) : null;
    if (refused) return problemResponse(c, refused);
    c.get('log').error('unhandled error', {
      error: err instanceof Error ? err.stack : String(err),
    });
    return problemResponse(c, new HubError('internal', 'internal error; see the hub logs'));
  });
  return app;
}
