import type { EventActor, OperationKind, Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import type {
  ComputeDriver,
  InstanceCall,
  InstanceState,
  OperationRef,
  SuspendResult,
} from './compute/driver.js';
import { eachLimited, type Settled, settle } from './each-limited.js';
import { HubError, isHubError } from './errors.js';
import { actionOfOperation, claimReason, recordedActor } from './events.js';
import { deterministicRequestId } from './ids.js';
import { planTransition, type TransitionPlan, type UserAction } from './lifecycle.js';
import type { EventDraft } from './store/event-store.js';
import type { WorkspaceSnapshot, WorkspaceStore } from './store/workspace-store.js';
import { STOPPED_BEFORE_LIMIT } from './suspend-limit.js';

export interface TransitionDeps {
  store: WorkspaceStore;
  driver: ComputeDriver;
}

export interface TransitionResult {
  workspace: Workspace | null;
  /** True when this call claimed the transition and made the compute call. */
  accepted: boolean;
}

/** Who did what and when (the time the transition decided with), for its events. */
export interface Attribution {
  actor: EventActor;
  action: EventDraft['action'];
  at: Date;
}

function errorOf(err: unknown): { code: string; message: string } {
  return {
    code: isHubError(err) ? err.code : 'internal',
    message: err instanceof Error ? err.message : String(err),
  };
}

/** Marks the workspace ERROR, unless someone else has moved it on since `version`. */
export async function recordFailure(
  store: WorkspaceStore,
  id: string,
  version: number,
  err: unknown,
  by: Attribution,
): Promise<Workspace | null> {
  const error = errorOf(err);
  return store.updateIfVersion(
    id,
    version,
    {
      status: 'ERROR',
      status_reason: error.message,
      error,
      operation: null,
      deadline: null,
    },
    { ...by, outcome: 'failed', error },
  );
}

function suspendResult(r: SuspendResult): DriverResult {
  return r.fallbackReason
    ? { op: r.operation, kind: 'stop', reason: r.fallbackReason }
    : { op: r.operation, kind: 'suspend', reason: null };
}

interface DriverResult {
  op: OperationRef | null;
  kind: OperationKind;
  reason: string | null;
}

async function callDriver(
  driver: ComputeDriver,
  ws: Workspace,
  call: OperationKind,
  requestId: string,
): Promise<DriverResult> {
  switch (call) {
    case 'suspend':
      return suspendResult(await driver.suspend(ws.zone, ws.instance_name, requestId));
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
    case 'stop':
      // Only the sweep claims a stop: a workspace suspended up to GCE's limit.
      return {
        op: await driver.stopSuspended(ws.zone, ws.instance_name, requestId),
        kind: 'stop',
        reason: STOPPED_BEFORE_LIMIT,
      };
    default:
      throw new HubError('internal', `no driver call for ${call}`);
  }
}

function claimPatch(
  plan: Extract<TransitionPlan, { kind: 'claim' }>,
  now: Date,
  reason: string | null,
): Partial<Workspace> {
  return {
    status: plan.next,
    status_reason: reason,
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
 * A claimed compute call failed; returns the error to report. When Compute
 * Engine did not take it (an outage, a dropped connection, its rate limit: a
 * batch of a thousand calls counts as a thousand) the workspace goes
 * back to what it was before the claim, so the next try (the user's, or the
 * next sweep's) makes the call again: ERROR would leave a running VM nothing
 * suspends, and one failed batch request would do that to a hundred workspaces.
 * Any other failure marks it ERROR; a VM that vanished is a conflict the user
 * can act on ("delete it"), not a missing workspace.
 */
async function failClaimed(
  store: WorkspaceStore,
  claimed: WorkspaceSnapshot,
  before: Workspace,
  call: OperationKind,
  cause: unknown,
  by: Attribution,
): Promise<unknown> {
  const ws = claimed.workspace;
  if (isRetryable(cause)) {
    const { status, status_reason, error, deadline, operation } = before;
    await store.compareAndSet(
      claimed,
      { status, status_reason, error, deadline, operation },
      { ...by, outcome: 'failed', error: errorOf(cause) },
    );
    return cause;
  }
  const err =
    isHubError(cause, 'not_found') && call !== 'delete'
      ? new HubError(
          'conflict',
          `workspace ${ws.id} has no VM any more (${cause.message}); delete it and create a new one`,
          { current_status: 'ERROR' },
        )
      : cause;
  await recordFailure(store, ws.id, ws.version, err, by);
  return err;
}

/** GCE did not take the call and would take it later. */
function isRetryable(err: unknown): boolean {
  return (
    isHubError(err, 'upstream_unavailable') ||
    (isHubError(err, 'quota_exceeded') && /rate_?limit/i.test(String(err.extra.reason ?? '')))
  );
}

const requestIdFor = (ws: Workspace, call: OperationKind) =>
  deterministicRequestId(ws.id, ws.version, call);

/** Makes the claimed compute call; a failure is handled by `failClaimed` and thrown. */
async function callClaimed(
  deps: TransitionDeps,
  claimed: WorkspaceSnapshot,
  before: Workspace,
  call: OperationKind,
  by: Attribution,
): Promise<DriverResult> {
  const ws = claimed.workspace;
  try {
    return await callDriver(deps.driver, ws, call, requestIdFor(ws, call));
  } catch (cause) {
    throw await failClaimed(deps.store, claimed, before, call, cause, by);
  }
}

/** The record of a call: an event only when it says something new (a stop instead of a suspend). */
function recordEvent(result: DriverResult, by: Attribution): EventDraft | undefined {
  return result.reason ? { ...by, outcome: 'accepted' } : undefined;
}

/**
 * The claimed calls of a sweep, suspends and deletes each as one batched
 * driver call (GCE: its batch endpoint), anything else one by one.
 */
async function callClaimedMany(
  deps: TransitionDeps,
  items: ReadonlyArray<{
    claimed: WorkspaceSnapshot;
    before: Workspace;
    call: OperationKind;
    by: Attribution;
  }>,
  concurrency: number,
): Promise<Settled<DriverResult>[]> {
  const out: Settled<DriverResult>[] = new Array(items.length);
  const batched = async (
    call: 'suspend' | 'delete',
    send: (calls: InstanceCall[]) => Promise<Settled<DriverResult>[]>,
  ) => {
    const picked = items.flatMap((item, i) => (item.call === call ? [{ item, i }] : []));
    if (!picked.length) return;
    const answers = await send(
      picked.map(({ item: { claimed } }) => ({
        zone: claimed.workspace.zone,
        name: claimed.workspace.instance_name,
        requestId: requestIdFor(claimed.workspace, call),
      })),
    );
    picked.forEach(({ i }, k) => {
      out[i] = answers[k]!;
    });
  };
  await Promise.all([
    batched('suspend', async (calls) =>
      (await deps.driver.suspendMany(calls)).map((a) =>
        a.ok ? { ok: true, value: suspendResult(a.value) } : a,
      ),
    ),
    batched('delete', async (calls) =>
      (await deps.driver.deleteMany(calls)).map((a) =>
        a.ok ? { ok: true, value: { op: a.value, kind: 'delete', reason: null } } : a,
      ),
    ),
  ]);
  // Anything else, and the failures: each on its own (failures are written one by one).
  await eachLimited(items, concurrency, async ({ claimed, before, call, by }, i) => {
    const ws = claimed.workspace;
    const answer =
      out[i] ?? (await settle(callDriver(deps.driver, ws, call, requestIdFor(ws, call))));
    out[i] = answer.ok
      ? answer
      : {
          ok: false,
          error: await failClaimed(deps.store, claimed, before, call, answer.error, by),
        };
  });
  return out;
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
    /** Who asks: recorded with each event, and in `status_reason`. */
    actor: Actor;
    guard?: (ws: Workspace) => TransitionPlan | null;
  },
): Promise<TransitionResult> {
  const now = opts.now ?? new Date();
  const decided = await deps.store.decideAndSet<{
    plan: TransitionPlan;
    by: Attribution | null;
  }>(id, (ws) => {
    const plan = opts.guard?.(ws) ?? planTransition(ws.status, action);
    if (plan.kind === 'forbidden')
      throw new HubError('conflict', plan.reason, { current_status: ws.status });
    if (plan.kind !== 'claim') return { patch: null, value: { plan, by: null } };
    const actor = recordedActor(opts.actor, ws, now);
    const by: Attribution = { actor, action: actionOfOperation(plan.call), at: now };
    return {
      patch: claimPatch(plan, now, claimReason(action, actor, ws, now)),
      value: { plan, by },
      event: { ...by, outcome: 'accepted' as const },
    };
  });
  const {
    before,
    written: claimed,
    value: { plan, by },
  } = decided;
  if (!claimed || plan.kind !== 'claim' || !by) return { workspace: before, accepted: false };
  const result = await callClaimed(deps, claimed, before, plan.call, by);
  if (plan.call === 'delete' && result.op === null) {
    await dropDeleted(deps.store, claimed.workspace);
    return { workspace: null, accepted: true };
  }
  const recorded = await deps.store.compareAndSet(
    claimed,
    recordPatch(result, now),
    recordEvent(result, by),
  );
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
 * the same guarantees: the claims travel in one commit, then the compute calls
 * in one batch (one per claim, same requestIds), then the records in one commit;
 * each write keeps its own precondition. A workspace that changed since it
 * was read goes through `requestTransition` alone, which reads it again and
 * decides again, so a user's concurrent `start` wins cleanly.
 */
export async function requestTransitions(
  deps: TransitionDeps,
  snaps: readonly WorkspaceSnapshot[],
  action: UserAction,
  opts: {
    now: Date;
    actor: Actor;
    guard: (ws: Workspace) => TransitionPlan;
    concurrency: number;
  },
): Promise<BatchOutcome[]> {
  const wanted = snaps.flatMap((snap) => {
    const ws = snap.workspace;
    const plan = opts.guard(ws);
    if (plan.kind !== 'claim') return [];
    const actor = recordedActor(opts.actor, ws, opts.now);
    const by: Attribution = { actor, action: actionOfOperation(plan.call), at: opts.now };
    return [{ snap, plan, by, reason: claimReason(action, actor, ws, opts.now) }];
  });

  const claims = await deps.store.compareAndSetMany(
    wanted.map(({ snap, plan, by, reason }) => ({
      snap,
      patch: claimPatch(plan, opts.now, reason),
      event: { ...by, outcome: 'accepted' as const },
    })),
  );
  const claimed = wanted.flatMap(({ snap, plan, by }, i) =>
    claims[i] ? [{ claimed: claims[i], before: snap.workspace, call: plan.call, by }] : [],
  );

  const outcomes: BatchOutcome[] = [];
  const done: Array<{ claimed: WorkspaceSnapshot; result: DriverResult; by: Attribution }> = [];
  const answers = await callClaimedMany(deps, claimed, opts.concurrency);
  // A delete GCE answered "already gone" has nothing left to record: its document goes.
  const gone: Workspace[] = [];
  claimed.forEach(({ claimed: c, call, by }, k) => {
    const answer = answers[k]!;
    outcomes.push({
      id: c.workspace.id,
      accepted: answer.ok,
      error: answer.ok ? null : answer.error,
    });
    if (!answer.ok) return;
    if (call === 'delete' && answer.value.op === null) gone.push(c.workspace);
    else done.push({ claimed: c, result: answer.value, by });
  });
  // Claims refused: the workspace changed since it was read; decide again, one by one.
  const refused = wanted.filter((_, i) => !claims[i]);
  await Promise.all([
    eachLimited(gone, opts.concurrency, (ws) => dropDeleted(deps.store, ws)),
    eachLimited(refused, opts.concurrency, async ({ snap }) => {
      const id = snap.workspace.id;
      try {
        const r = await requestTransition(deps, id, action, opts);
        outcomes.push({ id, accepted: r.accepted, error: null });
      } catch (error) {
        outcomes.push({ id, accepted: false, error });
      }
    }),
  ]);

  // A record refused means someone moved the workspace on after the call; their write stands.
  await deps.store.compareAndSetMany(
    done.map(({ claimed, result, by }) => ({
      snap: claimed,
      patch: recordPatch(result, opts.now),
      event: recordEvent(result, by),
    })),
  );

  return outcomes;
}

/**
 * Whether a transition's compute call was claimed and never made: no operation
 * recorded, and the instance still where the claim found it (a hub that
 * stopped between claim and call). A call made but not recorded has moved the
 * instance on, and reconcile finishes it from what it sees.
 */
function callNeverMade(ws: Workspace, instance: InstanceState | null): boolean {
  const op = ws.operation;
  if (!op || op.name !== null || !instance) return false;
  switch (op.kind) {
    case 'suspend':
      return ws.status === 'SUSPENDING' && instance.status === 'RUNNING';
    case 'resume':
    case 'start':
      return (
        ws.status === 'RESUMING' && ['SUSPENDED', 'TERMINATED', 'STOPPED'].includes(instance.status)
      );
    case 'delete':
      return ws.status === 'DELETING' && instance.status !== 'STOPPING';
    default:
      return false;
  }
}

/**
 * Makes the call of a transition a hub stopped between claim and call, with
 * the requestId of the claim (GCE makes it once), and records it. `false` when
 * there was nothing to finish. A call GCE does not take now is left for the
 * next sweep; any other refusal marks the workspace ERROR.
 */
export async function finishInterruptedCall(
  deps: TransitionDeps,
  ws: Workspace,
  instance: InstanceState | null,
  opts: { now: Date; actor: Actor },
): Promise<boolean> {
  const { now } = opts;
  if (!callNeverMade(ws, instance)) return false;
  const call = ws.operation!.kind;
  const by: Attribution = {
    actor: recordedActor(opts.actor, ws, now),
    action: actionOfOperation(call),
    at: now,
  };
  let result: DriverResult;
  try {
    result = await callDriver(deps.driver, ws, call, requestIdFor(ws, call));
  } catch (err) {
    if (!isRetryable(err)) await recordFailure(deps.store, ws.id, ws.version, err, by);
    throw err;
  }
  if (call === 'delete' && result.op === null) await dropDeleted(deps.store, ws);
  else
    await deps.store.updateIfVersion(
      ws.id,
      ws.version,
      recordPatch(result, now),
      recordEvent(result, by),
    );
  return true;
}
