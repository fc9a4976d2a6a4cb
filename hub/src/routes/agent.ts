import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  AgentAck,
  AgentHeartbeatBody,
  AgentReadyBody,
  AuthorizedKeys,
  computeDeadline,
  HubError,
  parsePublicKey,
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
    200: json(AuthorizedKeys, 'The owner’s device keys and the admins’'),
    ...problemResponses,
  },
});

/** A resumed agent keeps its memory; the hub tells it to report ready when it has not since. */
function needsReady(ws: Workspace): boolean {
  if (ws.status !== 'RESUMING' && ws.status !== 'PROVISIONING') return false;
  return (
    !ws.agent ||
    (ws.operation !== null && Date.parse(ws.agent.ready_at) < Date.parse(ws.operation.started_at))
  );
}

function sameWorkspace(ws: Workspace, bodyId: string) {
  if (bodyId !== ws.id)
    throw new HubError('invalid_argument', 'workspace_id: does not match X-Workspace-Id', {
      field: 'workspace_id',
    });
}

export function registerAgentRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(readyRoute, async (c) => {
    const ws = c.get('agentWorkspace');
    const body = c.req.valid('json');
    sameWorkspace(ws, body.workspace_id);
    if (
      body.host_public_key &&
      parsePublicKey(body.host_public_key, 'host_public_key').fingerprint !==
        body.host_key_fingerprint
    )
      throw new HubError(
        'invalid_argument',
        'host_public_key: does not match host_key_fingerprint',
        {
          field: 'host_public_key',
        },
      );
    const now = deps.now();
    await deps.store.mutate(ws.id, (cur) => {
      const agent = {
        host_key_fingerprint: body.host_key_fingerprint,
        version: body.agent_version,
        ready_at: now.toISOString(),
        port: body.port,
        host_public_key: body.host_public_key ?? null,
      };
      // Suspending or deleting: the agent only raced the shutdown; keep the transition.
      if (cur.status === 'SUSPENDING' || cur.status === 'DELETING')
        return { mutation: null, value: null };
      return {
        mutation: {
          agent,
          status: 'READY',
          status_reason: null,
          error: null,
          operation: null,
          last_activity_at: now.toISOString(),
          deadline: computeDeadline(now, cur.idle_timeout_minutes).toISOString(),
        },
        value: null,
      };
    });
    c.get('log').info('agent ready', { workspace_id: ws.id, agent_version: body.agent_version });
    return c.json({ ok: true, report_ready: false }, 200);
  });

  app.openapi(heartbeatRoute, async (c) => {
    const ws = c.get('agentWorkspace');
    const body = c.req.valid('json');
    sameWorkspace(ws, body.workspace_id);
    const now = deps.now();
    // An agent's clock may be ahead; activity is never in the future.
    const reported = Math.min(Date.parse(body.last_activity_at), now.getTime());
    const r = await deps.store.mutate(ws.id, (cur) => {
      if (reported <= Date.parse(cur.last_activity_at)) return { mutation: null, value: cur };
      const at = new Date(reported);
      return {
        mutation: {
          last_activity_at: at.toISOString(),
          ...(cur.status === 'READY'
            ? { deadline: computeDeadline(at, cur.idle_timeout_minutes).toISOString() }
            : {}),
        },
        value: cur,
      };
    });
    return c.json({ ok: true, report_ready: needsReady(r.after ?? r.value) }, 200);
  });

  app.openapi(keysRoute, async (c) => {
    const ws = c.get('agentWorkspace');
    const [own, admins] = await Promise.all([
      deps.keys.listByOwner(ws.owner_id),
      deps.keys.listByEmails(deps.config.HUB_ADMINS.map((e) => e.toLowerCase())),
    ]);
    const seen = new Set<string>();
    const keys = [...own, ...admins]
      .filter((k) => !seen.has(k.public_key) && seen.add(k.public_key))
      .map((k) => ({ name: k.name, public_key: k.public_key, owner: k.owner_email }));
    return c.json({ keys }, 200);
  });
}
