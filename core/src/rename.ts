import type { Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import type { WorkspaceStore } from './store/workspace-store.js';

/**
 * Renames a workspace; its id, VM and SSH host key alias stay. The name is
 * reserved in the same transaction as the document (`WorkspaceStore.rename`):
 * another of the owner's workspaces holding it is a conflict.
 */
export function renameWorkspace(
  store: WorkspaceStore,
  id: string,
  name: string,
  _opts: { actor: Actor },
): Promise<Workspace> {
  return store.rename(id, name);
}
