import type { InstanceStatus } from './driver.js';

/**
 * What a suspend GCE refused with UNSUPPORTED_OPERATION means. GCE gives that
 * answer both for an instance that cannot be suspended (GPUs, local SSDs,
 * Confidential VM, too much memory: stopping is the way to stop paying) and
 * for one not RUNNING ("You cannot suspend an already suspended instance",
 * "… an instance that is stopped or terminated", "… being repaired"). Stopping
 * a suspended instance would discard the memory it saved, so the instance's
 * status, read after the refusal, decides.
 */
export type SuspendRefusal =
  /** Running and unsuspendable: stop it instead. */
  | { kind: 'stop' }
  /** Suspending or suspended already: the suspend has what it asked for. */
  | { kind: 'suspended' }
  /** Stopping or stopped already (by someone, or by GCE): nothing left to do. */
  | { kind: 'stopped' }
  /** Refused for a state that passes (repairs, a start under way): ask again later. */
  | { kind: 'retry' };

/** GCE's messages for a refusal because of the instance's state, not its configuration. */
const REFUSED_FOR_STATE = /already suspended|stopped or terminated|being repaired/i;

export function readSuspendRefusal(status: InstanceStatus, message: string): SuspendRefusal {
  switch (status) {
    case 'SUSPENDING':
    case 'SUSPENDED':
      return { kind: 'suspended' };
    case 'STOPPING':
    case 'STOPPED':
    case 'TERMINATED':
      return { kind: 'stopped' };
    case 'RUNNING':
      // Running now but refused for a state: it was not running a moment ago.
      return REFUSED_FOR_STATE.test(message) ? { kind: 'retry' } : { kind: 'stop' };
    default:
      return { kind: 'retry' };
  }
}
