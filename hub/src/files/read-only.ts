import { HubError, readOnlyReason } from '@workspace-hub/core';

/** Refuses a change at `path` (the request's `field`) that the files API never makes: 403. */
export function refuseReadOnly(field: string, path: string): void {
  const why = readOnlyReason(path);
  if (why) throw new HubError('permission_denied', `${field}: ${path}: ${why}`, { field });
}
