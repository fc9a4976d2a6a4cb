import type { Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import type { ComputeDriver, InstanceState, OperationState } from './compute/driver.js';
import { isHubError } from './errors.js';
import { reconcileEvent } from './events.js';
import { reconcile } from './reconcile.js';
import type { WorkspaceStore } from './store/workspace-store.js';

export interface SyncResult {
  /** The workspace after reconciling; `null` when it is gone. */
  workspace: Workspace | null;
  instance: InstanceState | null;
  changed: boolean;
}

/**
 * Observes the instance (and the pending operation) and applies `reconcile`,
 * but only if nobody wrote the document in between: a transition claimed
 * meanwhile wins, and the next observation will see it. A change is recorded
 * as `actor`'s (reconcile and what made it look, or Compute Engine's event),
 * with the instance status it saw.
 */
export async function syncWorkspace(
  deps: { store: WorkspaceStore; driver: ComputeDriver },
  ws: Workspace,
  opts: { now?: Date; actor: Actor },
): Promise<SyncResult> {
  const now = opts.now ?? new Date();
  const instance = await deps.driver.get(ws.zone, ws.instance_name);
  let operation: OperationState | null = null;
  if (ws.operation?.name) {
    try {
      operation = await deps.driver.getOperation({ name: ws.operation.name, zone: ws.zone });
    } catch (err) {
      if (!isHubError(err, 'not_found')) throw err;
    }
  }
  const mutation = reconcile(ws, { instance, operation, now });
  if (mutation === null) return { workspace: ws, instance, changed: false };
  const r = await deps.store.mutate(ws.id, (cur) => {
    if (cur.version !== ws.version) return { mutation: null, value: null };
    const after = mutation === 'delete' ? null : { ...cur, ...mutation };
    return { mutation, value: null, event: reconcileEvent(cur, after, opts.actor, instance, now) };
  });
  return { workspace: r.after, instance, changed: r.written };
}
