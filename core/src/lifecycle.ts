import type { OperationKind, WorkspaceStatus } from '@workspace-hub/api';

/** What a user (or the cleanup sweep) asks of a workspace. */
export type UserAction = 'start' | 'stop' | 'delete';

export type TransitionPlan =
  /** Claim the transition: move to `next` and make the compute call `call`. */
  | { kind: 'claim'; next: WorkspaceStatus; call: OperationKind }
  /** Already there or on the way: answer 202 with the current state, call nothing. */
  | { kind: 'noop' }
  /** Not allowed from here: 409 with the current status. */
  | { kind: 'forbidden'; reason: string };

/**
 * The lifecycle state machine as one pure function. Suspend is the only "stop"
 * (memory kept, terminals survive); the driver falls back to a plain stop
 * itself when GCE refuses to suspend.
 */
export function planTransition(status: WorkspaceStatus, action: UserAction): TransitionPlan {
  switch (action) {
    case 'stop':
      if (status === 'READY') return { kind: 'claim', next: 'SUSPENDING', call: 'suspend' };
      if (status === 'SUSPENDING' || status === 'SUSPENDED') return { kind: 'noop' };
      return { kind: 'forbidden', reason: `cannot stop a workspace that is ${status}` };
    case 'start':
      if (status === 'SUSPENDED' || status === 'ERROR')
        return { kind: 'claim', next: 'RESUMING', call: 'resume' };
      if (status === 'READY' || status === 'RESUMING' || status === 'PROVISIONING')
        return { kind: 'noop' };
      return { kind: 'forbidden', reason: `cannot start a workspace that is ${status}` };
    case 'delete':
      if (status === 'DELETING') return { kind: 'noop' };
      return { kind: 'claim', next: 'DELETING', call: 'delete' };
  }
}

/** Statuses in which a GCE operation or the agent is awaited. */
export const TRANSITIONAL_STATUSES: readonly WorkspaceStatus[] = [
  'PROVISIONING',
  'SUSPENDING',
  'RESUMING',
  'DELETING',
];

/** How long a transition may take before `/cleanup` repairs it. */
export const TRANSITION_TIMEOUT_MS: Partial<Record<WorkspaceStatus, number>> = {
  PROVISIONING: 15 * 60_000,
  RESUMING: 10 * 60_000,
  SUSPENDING: 10 * 60_000,
  DELETING: 10 * 60_000,
};

export function isTransitional(status: WorkspaceStatus): boolean {
  return TRANSITIONAL_STATUSES.includes(status);
}
