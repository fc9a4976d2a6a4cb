import type { Workspace } from '@workspace-hub/api';
import { newWorkspaceId } from '../src/ids.js';

/** A workspace document as the hub writes one, with a fresh id; `over` sets what a test needs. */
export function sampleWorkspace(over: Partial<Workspace> = {}): Workspace {
  const id = newWorkspaceId();
  const t = '2026-01-01T00:00:00.000Z';
  return {
    id,
    name: 'workspace',
    owner_id: 'alice',
    owner_email: 'alice@example.com',
    instance_name: id,
    zone: 'europe-west1-b',
    project_id: 'p',
    image_tag: 'latest',
    machine_type: 'e2-standard-4',
    disk_size_gb: 50,
    status: 'PROVISIONING',
    status_reason: null,
    last_connected_at: null,
    last_activity_at: t,
    last_device_id: null,
    idle_timeout_minutes: 240,
    deadline: null,
    metadata: { repo: null, branch: null, device_id: null },
    agent: null,
    operation: { name: null, kind: 'insert', started_at: t },
    error: null,
    created_at: t,
    updated_at: t,
    version: 1,
    ...over,
  };
}
