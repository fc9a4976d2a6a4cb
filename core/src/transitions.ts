import type { ComputeDriver, OperationRef } from './compute/driver.js';
import { eachLimited } from './each-limited.js';
import { HubError, isHubError } from './errors.js';
import { deterministicRequestId } from './ids.js';
import { planTransition, type TransitionPlan, type UserAction } from './lifecycle.js';
import type { OperationKind, Workspace } from './schema/workspace.js';
import type { WorkspaceSnapshot, WorkspaceStore } from './store/workspace-store.js';

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

type DriverResult = Awaited<ReturnType<typeof callDriver>>;

function claimPatch(
  plan: Extract<TransitionPlan, { kind: 'claim' }>,
  now: Date,
): Partial<Workspace> {
  return {
    status: plan.next,
    status_reason: null,
    error: null,
    deadline: null,
    operation: { name: null, kind: plan.call, started_at: now.toISOString() },
  };
}

function recordPatch(result: DriverResult, now: Date): Partial<Workspace> {
  return {
    operation: { name: result.op?.name ?? null, kind: result.kind, started_at: now.toISOString() },
    ...(result.reason ? { status_reason: result.reason } : {}),
  };
}

/**
 * Makes the claimed compute call. On failure the workspace is marked ERROR and
 * the error to report is thrown: a VM that vanished is a conflict the user can
 * act on ("delete it"), not a missing workspace.
 */
async function callClaimed(
  deps: TransitionDeps,
  claimed: WorkspaceSnapshot,
  call: OperationKind,
): Promise<DriverResult> {
  const ws = claimed.workspace;
  const requestId = deterministicRequestId(ws.id, ws.version, call);
  try {
    return await callDriver(deps.driver, ws, call, requestId);
  } catch (cause) {
    const err =
      isHubError(cause, 'not_found') && call !== 'delete'
        ? new HubError(
            'conflict',
            `workspace ${ws.id} has no VM any more (${cause.message}); delete it and create a new one`,
            { current_status: 'ERROR' },
          )
        : cause;
    await recordFailure(deps.store, ws.id, ws.version, err);
    throw err;
  }
}

/** A delete GCE answered with "already gone": nothing left to wait for, drop the document. */
async function dropDeleted(store: WorkspaceStore, claimed: Workspace): Promise<void> {
  await store.mutate(claimed.id, (ws) => ({
    mutation: ws.version === claimed.version ? 'delete' : null,
    value: null,
  }));
}

/**
 * Claims a transition with a compare-and-set write (the document unchanged
 * since read, else read again and decide again), then makes exactly one
 * compute call with a requestId derived from the claimed version, then records
 * the operation. Concurrent callers see the claimed status and get a no-op, so
 * one accepted transition is one GCE call. Never waits for the operation.
 */
export async function requestTransition(
  deps: TransitionDeps,
  id: string,
  action: UserAction,
  opts: {
    now?: Date;
    guard?: (ws: Workspace) => TransitionPlan | null;
  } = {},
): Promise<TransitionResult> {
  const now = opts.now ?? new Date();
  const decide = (ws: Workspace) => opts.guard?.(ws) ?? planTransition(ws.status, action);
  let snap = await deps.store.getSnapshot(id);
  let claimed: WorkspaceSnapshot | null = null;
  let plan: TransitionPlan = { kind: 'noop' };
  for (let attempt = 0; !claimed; attempt++) {
    if (!snap) throw new HubError('not_found', `workspace ${id} not found`);
    plan = decide(snap.workspace);
    if (plan.kind === 'forbidden')
      throw new HubError('conflict', plan.reason, { current_status: snap.workspace.status });
    if (plan.kind === 'noop') return { workspace: snap.workspace, accepted: false };
    claimed = await deps.store.compareAndSet(snap, claimPatch(plan, now));
    if (!claimed) {
      if (attempt >= 20)
        throw new HubError('conflict', `workspace ${id} keeps changing; try again`);
      snap = await deps.store.getSnapshot(id);
    }
  }
  if (plan.kind !== 'claim') throw new HubError('internal', 'unreachable');
  const result = await callClaimed(deps, claimed, plan.call);
  if (plan.call === 'delete' && result.op === null) {
    await dropDeleted(deps.store, claimed.workspace);
    return { workspace: null, accepted: true };
  }
  const recorded = await deps.store.compareAndSet(claimed, recordPatch(result, now));
  return { workspace: recorded?.workspace ?? (await deps.store.get(id)), accepted: true };
}

export interface BatchOutcome {
  id: string;
  accepted: boolean;
  /** Why this workspace's transition failed; it is then ERROR or unchanged. */
  error: unknown;
}

/**
 * `requestTransition` for many workspaces just read (the cleanup sweep), with
 * the same guarantees: the claims travel in one commit, then one compute call
 * per claim (at most `concurrency` at once), then the records in one commit;
 * each write keeps its own precondition. A workspace that changed since it
 * was read goes through `requestTransition` alone, which reads it again and
 * decides again, so a user's concurrent `start` wins cleanly.
 */
export async function requestTransitions(
  deps: TransitionDeps,
  snaps: readonly WorkspaceSnapshot[],
  action: UserAction,
  opts: { now: Date; guard: (ws: Workspace) => TransitionPlan; concurrency: number },
): Promise<BatchOutcome[]> {
  const wanted = snaps.flatMap((snap) => {
    const plan = opts.guard(snap.workspace);
    return plan.kind === 'claim' ? [{ snap, plan }] : [];
  });

  const claims = await deps.store.compareAndSetMany(
    wanted.map(({ snap, plan }) => ({ snap, patch: claimPatch(plan, opts.now) })),
  );

  const outcomes: BatchOutcome[] = [];
  const done: Array<{ claimed: WorkspaceSnapshot; result: DriverResult }> = [];
  await eachLimited(wanted, opts.concurrency, async ({ snap, plan }, i) => {
    const id = snap.workspace.id;
    try {
      const claimed = claims[i];
      if (!claimed) {
        const r = await requestTransition(deps, id, action, { now: opts.now, guard: opts.guard });
        outcomes.push({ id, accepted: r.accepted, error: null });
        return;
      }
      const result = await callClaimed(deps, claimed, plan.call);
      if (plan.call === 'delete' && result.op === null)
        await dropDeleted(deps.store, claimed.workspace);
      else done.push({ claimed, result });
      outcomes.push({ id, accepted: true, error: null });
    } catch (error) {
      outcomes.push({ id, accepted: false, error });
    }
  });

  // A record refused means someone moved the workspace on after the call; their write stands.
  await deps.store.compareAndSetMany(
    done.map(({ claimed, result }) => ({ snap: claimed, patch: recordPatch(result, opts.now) })),
  );

  return outcomes;
}
