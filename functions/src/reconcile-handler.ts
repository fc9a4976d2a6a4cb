import {
  type ComputeDriver,
  isHubError,
  syncWorkspace,
  WORKSPACE_ID_PATTERN,
  type WorkspaceStore,
} from '@workspace-hub/core';
import { parseInstanceEvent } from './audit-log.js';

export interface FunctionDeps {
  store: WorkspaceStore;
  driver: ComputeDriver;
  log(
    severity: 'INFO' | 'WARNING' | 'ERROR',
    message: string,
    fields?: Record<string, unknown>,
  ): void;
}

export interface CloudEventLike {
  id?: string;
  subject?: string;
  data?: unknown;
}

export type Outcome = 'reconciled' | 'unchanged' | 'unknown-instance' | 'ignored';

/**
 * Reconciles the workspace an audit-log event is about. Unknown instances and
 * malformed events are logged and acknowledged; only an unavailable upstream
 * is thrown, so Eventarc's bounded retry tries again later.
 */
export function createAuditLogHandler(getDeps: () => Promise<FunctionDeps>) {
  return async (event: CloudEventLike): Promise<Outcome> => {
    const deps = await getDeps();
    const parsed = parseInstanceEvent(event.data, event.subject);
    if ('ignored' in parsed) {
      deps.log('WARNING', `event ignored: ${parsed.ignored}`, { event_id: event.id });
      return 'ignored';
    }
    const { instance, method } = parsed.event;
    const ws = WORKSPACE_ID_PATTERN.test(instance) ? await deps.store.get(instance) : null;
    if (!ws || ws.zone !== parsed.event.zone || ws.project_id !== parsed.event.project) {
      deps.log('INFO', 'event for an instance that is not a workspace', {
        instance,
        method,
        event_id: event.id,
      });
      return 'unknown-instance';
    }
    try {
      const r = await syncWorkspace(deps, ws, {
        actor: { kind: 'reconcile', trigger: 'audit-log', event: method },
      });
      deps.log('INFO', `reconciled after ${method}`, {
        workspace_id: ws.id,
        from: ws.status,
        to: r.workspace?.status ?? 'GONE',
        instance_status: r.instance?.status ?? null,
      });
      return r.changed ? 'reconciled' : 'unchanged';
    } catch (err) {
      if (isHubError(err, 'upstream_unavailable')) throw err;
      deps.log('ERROR', 'reconcile failed; acknowledged', {
        workspace_id: ws.id,
        error: err instanceof Error ? err.message : String(err),
      });
      return 'unchanged';
    }
  };
}
