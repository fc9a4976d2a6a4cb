import { HubError, isWorkspaceId, type Workspace, type WorkspaceStore } from '@workspace-hub/core';
import type { Identity } from '../auth/identity.js';

export function canSee(identity: Identity, ws: Workspace): boolean {
  return identity.admin || ws.owner_id === identity.sub;
}

/**
 * The workspace `ref` addresses, if the caller may see it: an id (`ws-…`)
 * is any workspace the caller may see (admins: everyone's), anything else is
 * the name of one of the caller's own (names never look like ids). Another
 * user's workspace is indistinguishable from none. Routes act on the returned
 * workspace's `id`, never on `ref`.
 */
export async function loadVisible(
  store: WorkspaceStore,
  identity: Identity,
  ref: string,
): Promise<Workspace> {
  const ws = isWorkspaceId(ref) ? await store.get(ref) : await store.getByName(identity.sub, ref);
  if (!ws || !canSee(identity, ws)) throw new HubError('not_found', `workspace ${ref} not found`);
  return ws;
}
