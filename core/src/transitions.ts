import type { ComputeDriver, OperationRef } from './compute/driver.js';
import { HubError, isHubError } from './errors.js';
import { deterministicRequestId } from './ids.js';
import { planTransition, type TransitionPlan, type UserAction } from './lifecycle.js';
import type { OperationKind, Workspace } from './schema/workspace.js';
import type { CompareAndSet, WorkspaceSnapshot, WorkspaceStore } from './store/workspace-store.js';

export interface TransitionDeps {
  store: WorkspaceStore;
  driver: ComputeDriver;
}

export interface TransitionResult {
  workspace: Workspace | null;
  /** True when this call claimed the transition and made the compute call. */
  accepted: boolean;
}

/** Marks the workspace ERROR, unless someone else has moved it on since `version`. */
export async function recordFailure(
  store: WorkspaceStore,
  id: string,
  version: number,
  err: unknown,
): Promise<Workspace | null> {
  const code = isHubError(err) ? err.code : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  return store.updateIfVersion(id, version, {
    status: 'ERROR',
    status_reason: message,
    error: { code, message },
    operation: null,
    deadline: null,
  });
}

async function callDriver(
  driver: ComputeDriver,
  ws: Workspace,
  call: OperationKind,
  requestId: string,
): Promise<{ op: OperationRef | null; kind: OperationKind; reason: string | null }> {
  switch (call) {
    case 'suspend': {
      const r = await driver.suspend(ws.zone, ws.instance_name, requestId);
      return r.fallbackReason
        ? { op: r.operation, kind: 'stop', reason: r.fallbackReason }
        : { op: r.operation, kind: 'suspend', reason: null };
    }
    case 'resume':
    case 'start':
      return {
        op: await driver.resume(ws.zone, ws.instance_name, requestId),
        kind: call,
        reason: null,
      };
    case 'delete':
      return {
        op: await driver.delete(ws.zone, ws.instance_name, requestId),
        kind: 'delete',
        reason: null,
      };
    default:
      throw new HubError('internal', `no driver call for ${call}`);
  }
}

/**
 * Claims a transition with a compare-and-set write (the document unchanged
 * since read, else read again and decide again), then makes exactly one
 * compute call with a requestId derived from the claimed version, then records
 * the operation. Concurrent callers see the claimed status and get a no-op, so
 * one accepted transition is one GCE call. Never waits for the operation.
 * `from` skips the first read when the caller has just read the workspace
 * (the cleanup sweep).
 */
export async function requestTransition(
  deps: TransitionDeps,
  id: string,
  action: UserAction,
  opts: {
    now?: Date;
    guard?: (ws: Workspace) => TransitionPlan | null;
    from?: WorkspaceSnapshot;
    /** How claims and records are written; default one compare-and-set write each. */
    cas?: CompareAndSet;
  } = {},
): Promise<TransitionResult> {
  const now = opts.now ?? new Date();
  const decide = (ws: Workspace) => opts.guard?.(ws) ?? planTransition(ws.status, action);
  const cas: CompareAndSet = opts.cas ?? ((snap, patch) => deps.store.compareAndSet(snap, patch));
  let snap = opts.from ?? (await deps.store.getSnapshot(id));
  let claimed: WorkspaceSnapshot | null = null;
  let plan: TransitionPlan = { kind: 'noop' };
  for (let attempt = 0; !claimed; attempt++) {
    if (!snap) throw new HubError('not_found', `workspace ${id} not found`);
    plan = decide(snap.workspace);
    if (plan.kind === 'forbidden')
      throw new HubError('conflict', plan.reason, { current_status: snap.workspace.status });
    if (plan.kind === 'noop') return { workspace: snap.workspace, accepted: false };
    claimed = await cas(snap, {
      status: plan.next,
      status_reason: null,
      error: null,
      deadline: null,
      operation: { name: null, kind: plan.call, started_at: now.toISOString() },
    });
    if (!claimed) {
      if (attempt >= 20)
        throw new HubError('conflict', `workspace ${id} keeps changing; try again`);
      snap = await deps.store.getSnapshot(id);
    }
  }
  if (plan.kind !== 'claim') throw new HubError('internal', 'unreachable');
  const requestId = deterministicRequestId(id, claimed.workspace.version, plan.call);
  let result: Awaited<ReturnType<typeof callDriver>>;
  try {
    result = await callDriver(deps.driver, claimed.workspace, plan.call, requestId);
  } catch (cause) {
    const err =
      isHubError(cause, 'not_found') && plan.call !== 'delete'
        ? new HubError(
            'conflict',
            `workspace ${id} has no VM any more (${cause.message}); delete it and create a new one`,
            {
              current_status: 'ERROR',
            },
          )
        : cause;
    await recordFailure(deps.store, id, claimed.workspace.version, err);
    throw err;
  }
  if (plan.call === 'delete' && result.op === null) {
    // Already gone at GCE: nothing left to wait for.
    const version = claimed.workspace.version;
    await deps.store.mutate(id, (ws) => ({
      mutation: ws.version === version ? 'delete' : null,
      value: null,
    }));
    return { workspace: null, accepted: true };
  }
  const recorded = await cas(claimed, {
    operation: { name: result.op?.name ?? null, kind: result.kind, started_at: now.toISOString() },
    ...(result.reason ? { status_reason: result.reason } : {}),
  });
  return { workspace: recorded?.workspace ?? (await deps.store.get(id)), accepted: true };
}
