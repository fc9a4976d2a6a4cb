import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  AgentAck,
  AgentHeartbeatBody,
  AgentReadyBody,
  AuthorizedKeys,
  HubError,
  recordAgentActivity,
  recordAgentReady,
  type Workspace,
} from '@workspace-hub/core';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { json, problemResponses } from './schemas.js';

const tags = ['agent'];
const security = [{ agent: [] }];

const readyRoute = createRoute({
  method: 'post',
  path: '/agent/ready',
  tags,
  security,
  summary: 'The agent is up (at boot and after a resume)',
  request: {
    body: { content: { 'application/json': { schema: AgentReadyBody } }, required: true },
  },
  responses: { 200: json(AgentAck, 'Recorded'), ...problemResponses },
});

const heartbeatRoute = createRoute({
  method: 'post',
  path: '/agent/heartbeat',
  tags,
  security,
  summary: 'Activity since the last heartbeat; answers whether to report ready again',
  request: {
    body: { content: { 'application/json': { schema: AgentHeartbeatBody } }, required: true },
  },
  responses: { 200: json(AgentAck, 'Recorded'), ...problemResponses },
});

const keysRoute = createRoute({
  method: 'get',
  path: '/agent/authorized-keys',
  tags,
  security,
  summary: 'Public keys that may open SSH sessions on this workspace',
  responses: {
    200: json(
      AuthorizedKeys,
      'The owner’s device keys, the admins’, and the hub’s unexpired connection keys for this workspace',
    ),
    ...problemResponses,
  },
});

function sameWorkspace(ws: Workspace, bodyId: string) {
  if (bodyId !== ws.id)
    throw new HubError('invalid_argument', 'workspace_id: does not match X-Workspace-Id', {
      field: 'workspace_id',
    });
}

export function registerAgentRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(readyRoute, async (c) => {
    const ws = c.get('agentWorkspace');
    const { workspace_id, ...report } = c.req.valid('json');
    sameWorkspace(ws, workspace_id);
    await recordAgentReady(deps.store, ws.id, report, { now: deps.now() });
    c.get('log').info('agent ready', { workspace_id: ws.id, agent_version: report.agent_version });
    return c.json({ ok: true, report_ready: false }, 200);
  });

  app.openapi(heartbeatRoute, async (c) => {
    const ws = c.get('agentWorkspace');
    const body = c.req.valid('json');
    sameWorkspace(ws, body.workspace_id);
    const { reportReady } = await recordAgentActivity(deps.store, ws.id, body, {
      now: deps.now(),
    });
    return c.json({ ok: true, report_ready: reportReady }, 200);
  });

  app.openapi(keysRoute, async (c) => {
    const ws = c.get('agentWorkspace');
    const [own, admins, hubKeys] = await Promise.all([
      deps.keys.listByOwner(ws.owner_id),
      deps.keys.listByEmails(deps.config.access.admins),
      // Bound to this workspace only, and only until they expire.
      deps.connectionKeys.listValid(ws.id, deps.now()),
    ]);
    const seen = new Set<string>();
    const keys = [
      ...[...own, ...admins]
        .filter((k) => !seen.has(k.public_key) && seen.add(k.public_key))
        .map((k) => ({ name: k.name, public_key: k.public_key, owner: k.owner_email })),
      ...hubKeys.map((k) => ({
        name: k.device_id,
        public_key: k.public_key,
        owner: k.user_email,
        via: 'hub' as const,
      })),
    ];
    return c.json({ keys }, 200);
  });
}
