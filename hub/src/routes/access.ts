import { HubError, type Workspace, type WorkspaceStore } from '@workspace-hub/core';
import type { Identity } from '../auth/identity.js';

export function canSee(identity: Identity, ws: Workspace): boolean {
  return identity.admin || ws.owner_id === identity.sub;
}

/** The workspace if the caller may see it; another user's is indistinguishable from none. */
export async function loadVisible(
  store: WorkspaceStore,
  identity: Identity,
  id: string,
): Promise<Workspace> {
  const ws = await store.get(id);
  if (!ws || !canSee(identity, ws)) throw new HubError('not_found', `workspace ${id} not found`);
  return ws;
}
