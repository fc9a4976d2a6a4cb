import { cloudEvent } from '@google-cloud/functions-framework';
import {
  createFirestore,
  createGceDriver,
  DEFAULT_EVENT_RETENTION_DAYS,
  EventStore,
  WorkspaceStore,
} from '@workspace-hub/core';
import {
  type CloudEventLike,
  createAuditLogHandler,
  type FunctionDeps,
} from './reconcile-handler.js';

export { parseInstanceEvent } from './audit-log.js';
export { createAuditLogHandler, type FunctionDeps, type Outcome } from './reconcile-handler.js';

/** The Eventarc entry point (Terraform: entry_point = reconcileFromAuditLog). */
export const FUNCTION_NAME = 'reconcileFromAuditLog';

let deps: Promise<FunctionDeps> | undefined;

/** Built on the first event, then reused while the instance is warm. */
function depsFromEnv(): Promise<FunctionDeps> {
  deps ??= (async () => {
    const projectId = process.env.GOOGLE_CLOUD_PROJECT;
    if (!projectId) throw new Error('GOOGLE_CLOUD_PROJECT is not set');
    const retentionDays = Number(
      process.env.HUB_EVENTS_RETENTION_DAYS ?? DEFAULT_EVENT_RETENTION_DAYS,
    );
    if (!Number.isInteger(retentionDays) || retentionDays < 1)
      throw new Error('HUB_EVENTS_RETENTION_DAYS must be a whole number of days, at least 1');
    const log: FunctionDeps['log'] = (severity, message, fields = {}) =>
      process.stdout.write(`${JSON.stringify({ severity, message, ...fields })}\n`);
    const db = createFirestore(projectId, process.env.FIRESTORE_EMULATOR_HOST);
    return {
      store: new WorkspaceStore(db, {
        events: new EventStore(db, { retentionDays }),
        warn: (message, fields) => log('WARNING', message, fields),
      }),
      driver: createGceDriver({ projectId, endpoint: process.env.HUB_COMPUTE_ENDPOINT }),
      log,
    };
  })();
  return deps;
}

const handler = createAuditLogHandler(depsFromEnv);
cloudEvent<unknown>(FUNCTION_NAME, async (event: CloudEventLike) => {
  await handler(event);
});
