import type { EventAction, EventActor, OperationKind, Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import type { InstanceState } from './compute/driver.js';
import type { UserAction } from './lifecycle.js';
import type { EventDraft } from './store/event-store.js';
import { STOPPED_BEFORE_LIMIT, SUSPENDED_ACTION_DAYS } from './suspend-limit.js';

/**
 * The actor as its events record it: a user is the owner, or an admin acting on
 * someone else's workspace (attributed to the admin, never to the owner); the
 * idle sweep with the idle time it measured on this workspace; Compute
 * Engine's audit-log event; reconcile with what made it look.
 */
export function recordedActor(actor: Actor, ws: Workspace, now: Date): EventActor {
  switch (actor.kind) {
    case 'user':
      return {
        kind: actor.sub === ws.owner_id ? 'owner' : 'admin',
        email: actor.email,
        ...(actor.device_id ? { device_id: actor.device_id } : {}),
      };
    case 'agent':
      return { kind: 'agent' };
    case 'sweep': {
      if (actor.rule !== 'idle') return { kind: 'cleanup', rule: actor.rule };
      const idleMs = Math.max(0, now.getTime() - Date.parse(ws.last_activity_at));
      return { kind: 'idle_sweep', idle_minutes: Math.floor(idleMs / 60_000) };
    }
    case 'reconcile':
      return actor.trigger === 'audit-log'
        ? {
            kind: 'compute_engine',
            ...(actor.event ? { gce_event: actor.event.slice(0, 200) } : {}),
          }
        : { kind: 'reconcile', via: actor.trigger };
  }
}

/** "45 min", "4 h", "4 h 30 min", "3 d 2 h". */
export function formatDuration(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours ? `${days} d ${hours} h` : `${days} d`;
  return mins ? `${hours} h ${mins} min` : `${hours} h`;
}

const byWhom = (actor: EventActor) =>
  actor.email ? ` by ${actor.email}${actor.device_id ? ` from ${actor.device_id}` : ''}` : '';

const DONE: Record<UserAction, string> = {
  stop: 'suspended',
  start: 'started',
  delete: 'deleted',
};

/**
 * `status_reason` of a claimed transition, in words: "suspended after 4 h
 * idle", "suspended by admin@example.com", "deleted after 30 d suspended".
 */
export function claimReason(
  action: UserAction,
  actor: EventActor,
  ws: Workspace,
  now: Date,
): string | null {
  switch (actor.kind) {
    case 'idle_sweep':
      return `suspended after ${formatDuration(actor.idle_minutes ?? 0)} idle`;
    case 'owner':
    case 'admin':
      return `${DONE[action]}${byWhom(actor)}`;
    case 'cleanup': {
      if (actor.rule === 'suspended-limit')
        return action === 'delete'
          ? `deleted after ${SUSPENDED_ACTION_DAYS} days suspended, a day before Compute Engine's limit`
          : STOPPED_BEFORE_LIMIT;
      const minutes = Math.floor((now.getTime() - Date.parse(ws.updated_at)) / 60_000);
      return `${DONE[action]} after ${formatDuration(minutes)} suspended (retention)`;
    }
    default:
      return null;
  }
}

/** The user action an operation belongs to. */
export function actionOfOperation(kind: OperationKind): EventAction {
  switch (kind) {
    case 'insert':
      return 'create';
    case 'suspend':
    case 'stop':
      return 'stop';
    case 'resume':
    case 'start':
      return 'start';
    case 'delete':
      return 'delete';
  }
}

/**
 * The event of a reconcile write: the end of the pending operation (succeeded
 * or failed), or, with none pending, the drift found outside the hub.
 */
export function reconcileEvent(
  before: Workspace,
  after: Workspace | null,
  actor: Actor,
  instance: InstanceState | null,
  now: Date,
): EventDraft {
  const seen: EventActor = {
    ...recordedActor(actor, before, now),
    instance_status: instance?.status ?? 'MISSING',
  };
  const failed = after?.status === 'ERROR';
  const error = failed ? (after.error ?? null) : null;
  if (before.operation)
    return {
      actor: seen,
      action: actionOfOperation(before.operation.kind),
      outcome: failed ? 'failed' : after?.status === before.status ? 'accepted' : 'succeeded',
      error,
      at: now,
    };
  return {
    actor: seen,
    action: 'reconcile',
    outcome: failed ? 'failed' : 'succeeded',
    error,
    at: now,
  };
}
