import type { Workspace } from '@workspace-hub/api';

/** Statuses a workspace leaves by itself: the dashboard polls fast while one is shown. */
export const CHANGING = new Set<Workspace['status']>([
  'PROVISIONING',
  'SUSPENDING',
  'RESUMING',
  'DELETING',
]);

/** What a user would call each status. */
export const STATUS_LABEL: Record<Workspace['status'], string> = {
  PROVISIONING: 'Provisioning…',
  READY: 'Running',
  SUSPENDING: 'Stopping…',
  SUSPENDED: 'Stopped',
  RESUMING: 'Starting…',
  DELETING: 'Deleting…',
  ERROR: 'Error',
};

/** What the page calls a workspace: its name (the owner's, unique per owner), else its id. */
export function displayName(w: Workspace): string {
  return w.name || w.id;
}
