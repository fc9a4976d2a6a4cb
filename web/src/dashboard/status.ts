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

/** The workspace's display name: its `name` once the hub gives one, else its id. */
export function displayName(w: Workspace): string {
  const name = (w as Workspace & { name?: string | null }).name;
  return name || w.id;
}
