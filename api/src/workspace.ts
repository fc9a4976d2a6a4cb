import { z } from 'zod';
import { WorkspaceId } from './ids.js';

export const WORKSPACE_STATUSES = [
  'PROVISIONING',
  'READY',
  'SUSPENDING',
  'SUSPENDED',
  'RESUMING',
  'DELETING',
  'ERROR',
] as const;
export const WorkspaceStatus = z.enum(WORKSPACE_STATUSES);
export type WorkspaceStatus = z.infer<typeof WorkspaceStatus>;

const Timestamp = z.iso.datetime({ offset: true });

export const OperationKind = z.enum(['insert', 'suspend', 'stop', 'resume', 'start', 'delete']);
export type OperationKind = z.infer<typeof OperationKind>;

export const WorkspaceMetadata = z.object({
  repo: z.string().nullable(),
  branch: z.string().nullable(),
  device_id: z.string().nullable(),
});

export const AgentInfo = z.object({
  host_key_fingerprint: z.string(),
  version: z.string(),
  ready_at: Timestamp,
  port: z.number().int().nullable().optional(),
  /** The agent's host public key (`ssh-ed25519 AAAA…`), so clients pin it without trust-on-first-use. */
  host_public_key: z.string().nullable().optional(),
});

export const PendingOperation = z.object({
  name: z.string().nullable(),
  kind: OperationKind,
  started_at: Timestamp,
});

export const WorkspaceError = z.object({ code: z.string(), message: z.string() });

/**
 * The workspace as the API returns it and as the domain passes it around. The
 * Firestore document has the same fields, with Timestamps where this has strings.
 */
export const Workspace = z.object({
  id: WorkspaceId,
  /**
   * The owner's name for it (unique per owner; see WorkspaceName). Documents
   * from before names have none until the store names them (WorkspaceStore).
   */
  name: z.string(),
  owner_id: z.string(),
  owner_email: z.string(),
  instance_name: z.string(),
  zone: z.string(),
  project_id: z.string(),
  /** `v1`, `v1@sha256:…` or `sha256:…`: see imageTagOf (image-reference.ts). */
  image_tag: z.string(),
  machine_type: z.string(),
  disk_size_gb: z.number().int(),
  status: WorkspaceStatus,
  status_reason: z.string().nullable(),
  last_connected_at: Timestamp.nullable(),
  last_activity_at: Timestamp,
  last_device_id: z.string().nullable(),
  idle_timeout_minutes: z.number().int(),
  deadline: Timestamp.nullable(),
  metadata: WorkspaceMetadata,
  agent: AgentInfo.nullable(),
  operation: PendingOperation.nullable(),
  error: WorkspaceError.nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  version: z.number().int(),
});
export type Workspace = z.infer<typeof Workspace>;

/** Fields of the document that hold times (Timestamps in Firestore, strings here). */
export const WORKSPACE_TIME_FIELDS = [
  'last_connected_at',
  'last_activity_at',
  'deadline',
  'created_at',
  'updated_at',
] as const;
