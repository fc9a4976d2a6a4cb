/**
 * Compute Engine keeps an instance suspended for at most 60 days, then
 * terminates it: its saved memory (open terminals, running programs) is
 * discarded, its disks are kept ("Suspend or resume a Compute Engine
 * instance", limitations). A workspace suspended with its memory carries a
 * `deadline` a day before that limit, when the cleanup sweep acts on it as
 * HUB_SUSPENDED_LIMIT_ACTION says, so the loss is never silent.
 */
export const GCE_SUSPENDED_LIMIT_DAYS = 60;
/** The sweep runs every few minutes: a day before the limit is ample. */
export const SUSPENDED_ACTION_DAYS = GCE_SUSPENDED_LIMIT_DAYS - 1;

/** What the sweep does with a workspace suspended for `SUSPENDED_ACTION_DAYS`. */
export const SUSPENDED_LIMIT_ACTIONS = ['stop', 'delete'] as const;
export type SuspendedLimitAction = (typeof SUSPENDED_LIMIT_ACTIONS)[number];

export function suspendedDeadline(suspendedAt: Date): string {
  return new Date(suspendedAt.getTime() + SUSPENDED_ACTION_DAYS * 86_400_000).toISOString();
}

/** `status_reason` of a workspace whose suspended VM was stopped by Compute Engine (or anyone). */
export const MEMORY_DISCARDED =
  `the suspended VM was stopped (Compute Engine keeps a VM suspended at most ${GCE_SUSPENDED_LIMIT_DAYS} days): ` +
  'its memory and open terminals are gone; its disks are kept';

/** `status_reason` of a workspace the sweep shut down cleanly before that limit. */
export const STOPPED_BEFORE_LIMIT =
  `stopped after ${SUSPENDED_ACTION_DAYS} days suspended, before Compute Engine's ${GCE_SUSPENDED_LIMIT_DAYS}-day limit ` +
  '(resumed, then shut down cleanly): memory and open terminals are not kept; the disks are';
