import type { Workspace } from '@workspace-hub/api';
import type { InstanceState, OperationState } from './compute/driver.js';
import { computeDeadline } from './idle.js';
import { TRANSITION_TIMEOUT_MS } from './lifecycle.js';
import type { Mutation } from './store/workspace-store.js';
import { MEMORY_DISCARDED, suspendedDeadline } from './suspend-limit.js';

/** What was observed of the workspace's instance and its pending operation. */
export interface Observation {
  /** `null`: the instance does not exist. */
  instance: InstanceState | null;
  /** The pending operation's state, when there is one and it was read. */
  operation?: OperationState | null;
  now: Date;
}

const STOPPED = new Set(['SUSPENDED', 'TERMINATED', 'STOPPED']);
const GOING_DOWN = new Set(['SUSPENDING', 'STOPPING']);

/** "reconciled: VM was TERMINATED outside the hub (Instance was preempted.)" */
function outsideTheHub(instance: InstanceState): string {
  const said = instance.statusMessage ? ` (${instance.statusMessage})` : '';
  return `reconciled: VM was ${instance.status} outside the hub${said}`;
}

function agentReadySince(ws: Workspace, since: string | undefined): boolean {
  if (!ws.agent || !since) return false;
  return Date.parse(ws.agent.ready_at) >= Date.parse(since);
}

function toError(code: string, message: string): Mutation {
  return {
    status: 'ERROR',
    status_reason: message,
    error: { code, message },
    operation: null,
    deadline: null,
  };
}

/**
 * The one mapping from what Compute Engine has to our status. Pure and
 * idempotent: applying it twice to the same observation changes nothing the
 * second time. Used by the agent callbacks, reconcile-on-read, `/cleanup` and
 * the Eventarc function.
 */
export function reconcile(ws: Workspace, obs: Observation): Mutation {
  const { instance, operation, now } = obs;
  const op = ws.operation;

  if (ws.status === 'DELETING') {
    if (instance === null) return 'delete';
    if (operation?.done && operation.error)
      return toError(operation.error.code, `delete failed: ${operation.error.message}`);
    return null;
  }

  if (op && operation?.done && operation.error)
    return toError(operation.error.code, `${op.kind} failed: ${operation.error.message}`);

  const timeout = TRANSITION_TIMEOUT_MS[ws.status];
  const overdue =
    timeout !== undefined && op !== null && now.getTime() - Date.parse(op.started_at) > timeout;

  switch (ws.status) {
    case 'PROVISIONING':
    case 'RESUMING': {
      if (instance === null) {
        // An insert that has not reached GCE yet looks like a missing instance.
        if (ws.status === 'PROVISIONING' && !overdue && !operation?.done) return null;
        return toError('instance_missing', 'the instance no longer exists');
      }
      if (instance.status === 'RUNNING' && agentReadySince(ws, op?.started_at)) {
        return {
          status: 'READY',
          status_reason: null,
          operation: null,
          error: null,
          last_activity_at: now.toISOString(),
          deadline: computeDeadline(now, ws.idle_timeout_minutes).toISOString(),
        };
      }
      if (overdue) {
        const what =
          instance.status === 'RUNNING'
            ? 'the agent did not report ready'
            : `the instance is still ${instance.status}`;
        return toError('timeout', `${what} after ${Math.round(timeout! / 60_000)} minutes`);
      }
      return null;
    }
    case 'SUSPENDING': {
      if (instance === null) return toError('instance_missing', 'the instance no longer exists');
      if (STOPPED.has(instance.status))
        return {
          status: 'SUSPENDED',
          operation: null,
          error: null,
          // Its memory is kept until GCE's limit: the sweep acts a day before.
          deadline: instance.status === 'SUSPENDED' ? suspendedDeadline(now) : null,
        };
      if (overdue)
        return toError('timeout', `the instance is still ${instance.status} after suspending`);
      return null;
    }
    case 'READY': {
      if (instance === null) return toError('instance_missing', 'the instance no longer exists');
      const why = instance.stopReason ?? outsideTheHub(instance);
      if (STOPPED.has(instance.status))
        return {
          status: 'SUSPENDED',
          status_reason: why,
          operation: null,
          deadline: instance.status === 'SUSPENDED' ? suspendedDeadline(now) : null,
        };
      if (GOING_DOWN.has(instance.status))
        return {
          status: 'SUSPENDING',
          status_reason: why,
          operation: { name: null, kind: 'stop', started_at: now.toISOString() },
          deadline: null,
        };
      return null;
    }
    case 'SUSPENDED': {
      if (instance === null) return toError('instance_missing', 'the instance no longer exists');
      // Suspended with its memory (a deadline), and now stopped: GCE's 60 days, or someone.
      if (
        ws.deadline !== null &&
        (instance.status === 'TERMINATED' || instance.status === 'STOPPED')
      )
        return {
          status_reason: instance.stopReason ?? instance.statusMessage ?? MEMORY_DISCARDED,
          deadline: null,
        };
      if (instance.status === 'RUNNING' || instance.status === 'STAGING')
        return {
          status: 'RESUMING',
          status_reason: outsideTheHub(instance),
          operation: { name: null, kind: 'start', started_at: now.toISOString() },
        };
      return null;
    }
    case 'ERROR':
      return null;
  }
}
