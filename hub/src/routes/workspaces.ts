import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  ConnectBody,
  CreateWorkspaceBody,
  DEVICE_ID_HEADER,
  DeviceId,
  ExtendBody,
  extendDeadline,
  HubError,
  ListWorkspacesQuery,
  provisionWorkspace,
  recordConnection,
  renameWorkspace,
  requestTransition,
  syncWorkspace,
  UpdateWorkspaceBody,
  type UserAction,
  Workspace,
  WorkspaceList,
  WorkspaceStatusReport,
} from '@workspace-hub/core';
import { z } from 'zod';
import { actorOf } from '../auth/actor.js';
import type { Identity } from '../auth/identity.js';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { emptyBodyIsNoBody } from '../http/empty-body.js';
import { loadVisible } from './access.js';
import { IdParams, json, problemResponses } from './schemas.js';

const tags = ['workspaces'];
const security = [{ bearer: [] }];

const listRoute = createRoute({
  method: 'get',
  path: '/workspaces',
  tags,
  security,
  summary: 'List your workspaces (admins: scope=all for everyone’s)',
  request: { query: ListWorkspacesQuery },
  responses: { 200: json(WorkspaceList, 'A page of workspaces'), ...problemResponses },
});

const createWorkspaceRoute = createRoute({
  method: 'post',
  path: '/workspaces',
  tags,
  security,
  summary: 'Create a workspace; answers at once while the VM is provisioned',
  request: {
    headers: z.object({ 'idempotency-key': z.string().min(1).max(255).optional() }),
    body: { content: { 'application/json': { schema: CreateWorkspaceBody } }, required: false },
  },
  responses: {
    202: json(Workspace, 'The new (or, for a repeated Idempotency-Key, the first) workspace'),
    ...problemResponses,
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/workspaces/{id}',
  tags,
  security,
  summary: 'One workspace as stored',
  request: { params: IdParams },
  responses: { 200: json(Workspace, 'The workspace; ETag is its version'), ...problemResponses },
});

const updateRoute = createRoute({
  method: 'patch',
  path: '/workspaces/{id}',
  tags,
  security,
  summary:
    'Rename the workspace; its id, VM and SSH host key alias stay (409 if the name is taken)',
  request: {
    params: IdParams,
    body: { content: { 'application/json': { schema: UpdateWorkspaceBody } }, required: true },
  },
  responses: { 200: json(Workspace, 'The renamed workspace'), ...problemResponses },
});

/** The device a start, stop or delete comes from, recorded in its event. */
const DeviceHeader = z.object({ [DEVICE_ID_HEADER]: DeviceId.optional() });

const deleteRoute = createRoute({
  method: 'delete',
  path: '/workspaces/{id}',
  tags,
  security,
  summary: 'Delete the workspace and its VM and disk',
  request: { params: IdParams, headers: DeviceHeader },
  responses: { 202: json(Workspace, 'Deletion under way'), ...problemResponses },
});

function actionRoute(action: 'stop' | 'start', summary: string) {
  return createRoute({
    method: 'post',
    path: `/workspaces/{id}/${action}`,
    tags,
    security,
    summary,
    request: { params: IdParams, headers: DeviceHeader },
    responses: {
      202: json(Workspace, 'The transition is under way (or already was)'),
      ...problemResponses,
    },
  });
}

const statusRoute = createRoute({
  method: 'get',
  path: '/workspaces/{id}/status',
  tags,
  security,
  summary: 'Live status: reconciles the document with Compute Engine first',
  request: { params: IdParams },
  responses: {
    200: json(WorkspaceStatusReport, 'The reconciled workspace and the instance status'),
    ...problemResponses,
  },
});

const connectRoute = createRoute({
  method: 'post',
  path: '/workspaces/{id}/connect',
  tags,
  security,
  summary:
    'Record a client connection from a device; counts as activity. No body or `{}`: the device last recorded (else the one that created the workspace)',
  request: {
    params: IdParams,
    body: { content: { 'application/json': { schema: ConnectBody } }, required: false },
  },
  responses: { 200: json(Workspace, 'The workspace with its new deadline'), ...problemResponses },
});

const extendRoute = createRoute({
  method: 'post',
  path: '/workspaces/{id}/extend',
  tags,
  security,
  summary: 'Push the idle deadline out',
  request: {
    params: IdParams,
    body: { content: { 'application/json': { schema: ExtendBody } }, required: true },
  },
  responses: { 200: json(Workspace, 'The workspace with its new deadline'), ...problemResponses },
});

export function registerWorkspaceRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  const provisionDeps = {
    store: deps.store,
    driver: deps.driver,
    instanceExtras: deps.instanceExtras,
    policy: deps.config.provisioning,
  };

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const identity = c.get('identity');
    if (q.scope === 'all' && !identity.admin)
      throw new HubError('permission_denied', 'scope=all is for admins', { field: 'scope' });
    const page = await deps.store.list({
      ownerId: q.scope === 'all' ? undefined : identity.sub,
      status: q.status,
      limit: q.limit,
      pageToken: q.page_token,
    });
    return c.json({ workspaces: page.workspaces, next_page_token: page.nextPageToken }, 200);
  });

  app.openapi(createWorkspaceRoute, async (c) => {
    const body = c.req.valid('json') ?? {};
    const key = c.req.valid('header')['idempotency-key'];
    const identity = c.get('identity');
    const { workspace, created } = await provisionWorkspace(provisionDeps, identity, body, {
      idempotencyKey: key,
      now: deps.now(),
      actor: actorOf(identity),
    });
    c.get('log').info(created ? 'workspace created' : 'workspace create replayed', {
      workspace_id: workspace.id,
    });
    c.header('Location', `/workspaces/${workspace.id}`);
    return c.json(workspace, 202);
  });

  app.openapi(getRoute, async (c) => {
    const ws = await loadVisible(deps.store, c.get('identity'), c.req.valid('param').id);
    c.header('ETag', `"${ws.version}"`);
    return c.json(ws, 200);
  });

  const transition = async (
    before: Workspace,
    action: UserAction,
    identity: Identity,
    deviceId: string | undefined,
  ) => {
    const r = await requestTransition(deps, before.id, action, {
      now: deps.now(),
      actor: actorOf(identity, deviceId),
    });
    return r.workspace ?? { ...before, status: 'DELETING' as const };
  };

  app.openapi(updateRoute, async (c) => {
    const identity = c.get('identity');
    const { id } = await loadVisible(deps.store, identity, c.req.valid('param').id);
    const ws = await renameWorkspace(deps.store, id, c.req.valid('json').name, {
      actor: actorOf(identity),
    });
    c.header('ETag', `"${ws.version}"`);
    return c.json(ws, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const identity = c.get('identity');
    const before = await loadVisible(deps.store, identity, c.req.valid('param').id);
    const device = c.req.valid('header')[DEVICE_ID_HEADER];
    return c.json(await transition(before, 'delete', identity, device), 202);
  });

  for (const [action, summary] of [
    ['stop', 'Suspend the workspace (memory kept; terminals survive)'],
    ['start', 'Resume (or start) the workspace'],
  ] as const) {
    app.openapi(actionRoute(action, summary), async (c) => {
      const identity = c.get('identity');
      const before = await loadVisible(deps.store, identity, c.req.valid('param').id);
      const device = c.req.valid('header')[DEVICE_ID_HEADER];
      return c.json(await transition(before, action, identity, device), 202);
    });
  }

  app.openapi(statusRoute, async (c) => {
    const ws = await loadVisible(deps.store, c.get('identity'), c.req.valid('param').id);
    const r = await syncWorkspace(deps, ws, {
      now: deps.now(),
      actor: { kind: 'reconcile', trigger: 'status-read' },
    });
    const current = r.workspace ?? { ...ws, status: 'DELETING' as const };
    return c.json(
      {
        workspace: current,
        instance_status: r.instance?.status ?? null,
        deadline: current.deadline,
      },
      200,
    );
  });

  // Before the route's own validation: a connect without a body is a connect from the default device.
  app.use('/workspaces/:id/connect', emptyBodyIsNoBody);
  app.openapi(connectRoute, async (c) => {
    const { device_id } = c.req.valid('json');
    const identity = c.get('identity');
    const { id } = await loadVisible(deps.store, identity, c.req.valid('param').id);
    const ws = await recordConnection(deps.store, id, device_id, {
      now: deps.now(),
      actor: actorOf(identity, device_id),
    });
    return c.json(ws, 200);
  });

  app.openapi(extendRoute, async (c) => {
    const { minutes } = c.req.valid('json');
    const max = deps.config.HUB_MAX_EXTEND_MINUTES;
    if (minutes > max)
      throw new HubError('invalid_argument', `minutes: at most ${max} at a time`, {
        field: 'minutes',
      });
    const identity = c.get('identity');
    const { id } = await loadVisible(deps.store, identity, c.req.valid('param').id);
    const ws = await extendDeadline(deps.store, id, minutes, {
      now: deps.now(),
      maxMinutes: max,
      actor: actorOf(identity),
    });
    return c.json(ws, 200);
  });
}
