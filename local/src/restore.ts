import { LocalDriver, syncWorkspace, WORKSPACE_LABEL } from '@workspace-hub/core';
import type { HubDeps } from '@workspace-hub/hub';

/**
 * Local mode after a restart: the driver found its instances on disk, their
 * agents gone. Their workspaces (READY in the document) are reconciled now, so
 * they are listed SUSPENDED with the reason, and `wsh start` starts them again.
 */
export async function reconcileRestoredWorkspaces(deps: HubDeps): Promise<void> {
  if (!(deps.driver instanceof LocalDriver)) return;
  for (const inst of deps.driver.restoredInstances()) {
    const id = inst.labels[WORKSPACE_LABEL] ?? inst.name;
    try {
      const ws = await deps.store.get(id);
      if (ws)
        await syncWorkspace(deps, ws, {
          now: deps.now(),
          actor: { kind: 'reconcile', trigger: 'hub-start' },
        });
    } catch (err) {
      deps.log.warn('could not reconcile a restored workspace', {
        workspace_id: id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
