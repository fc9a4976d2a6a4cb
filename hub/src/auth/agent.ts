import { HubError, WORKSPACE_ID_PATTERN, type Workspace } from '@workspace-hub/core';
import type { Context } from 'hono';
import type { HubDeps } from '../deps.js';
import { verifyHubToken } from './hub-token.js';
import { bearerToken } from './identity.js';

interface ComputeEngineClaims {
  project_id?: string;
  zone?: string;
  instance_name?: string;
}

/**
 * Authenticates a vm-agent callback and returns its workspace. On GCE the
 * agent presents its instance identity token in Authorization, verified here
 * (signature, audience, expiry) whatever HUB_AUTH is: behind Cloud Run the
 * agent also sends it in X-Serverless-Authorization, which Cloud Run checks,
 * so Authorization arrives signed. Its claims must name this workspace's
 * project, zone and instance. Locally, the per-workspace token.
 * Either way a credential for workspace A never acts on B.
 */
export async function authenticateAgent(deps: HubDeps, c: Context): Promise<Workspace> {
  const id = c.req.header('x-workspace-id') ?? '';
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw new HubError('unauthenticated', 'missing Authorization: Bearer <agent token>');
  if (!WORKSPACE_ID_PATTERN.test(id))
    throw new HubError('unauthenticated', 'missing or malformed X-Workspace-Id');
  const ws = await deps.store.get(id);
  const isJwt = token.split('.').length === 3;
  if (isJwt) {
    const payload = await verifyHubToken(
      deps,
      token,
      'Cloud Run removed this token’s signature: the agent must send its identity token in X-Serverless-Authorization too (update the workspace image)',
    );
    const gce = (payload as { google?: { compute_engine?: ComputeEngineClaims } }).google
      ?.compute_engine;
    if (!gce)
      throw new HubError('permission_denied', 'not an instance identity token (format=full)');
    if (
      !ws ||
      gce.project_id !== ws.project_id ||
      gce.zone !== ws.zone ||
      gce.instance_name !== ws.instance_name
    )
      throw new HubError('permission_denied', 'this instance is not the workspace it claims to be');
    return ws;
  }
  if (deps.config.HUB_DRIVER !== 'local')
    throw new HubError('unauthenticated', 'agents authenticate with an instance identity token');
  if (!ws || !(await deps.agentTokens.verify(id, token)))
    throw new HubError('permission_denied', 'agent token does not belong to this workspace');
  return ws;
}
