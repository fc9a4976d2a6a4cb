import { z } from 'zod';
import { carriesCredentials, hasControlCharacter, isGitBranchName } from './git-names.js';
import { AuthMode } from './hub-settings.js';
import { DeviceId, ResourceName } from './ids.js';
import { WorkspaceName } from './names.js';
import { Workspace, WorkspaceStatus } from './workspace.js';

export const CreateWorkspaceBody = z.strictObject({
  /** Unique among the owner's workspaces; when absent, derived from `repo` and made unique. */
  name: WorkspaceName.optional(),
  repo: z
    .string()
    .max(2048)
    .refine((s) => !hasControlCharacter(s), 'must not contain control characters')
    // The URL is kept in the workspace's record, listed, and passed to the VM in its metadata.
    .refine(
      (s) => !carriesCredentials(s),
      'must not carry credentials (a token or password in the URL): give the VM a Secret Manager secret instead (HUB_WORKSPACE_SECRET_NAMES)',
    )
    .optional(),
  branch: z
    .string()
    .min(1)
    .max(255)
    .refine(isGitBranchName, 'is not a valid git branch name')
    .optional(),
  machine_type: ResourceName.optional(),
  zone: z
    .string()
    .regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'must be a zone like europe-west1-b')
    .optional(),
  disk_size_gb: z.number().int().min(10).max(4096).optional(),
  image_tag: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a container image tag')
    .optional(),
  idle_timeout_minutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .optional(),
  device_id: DeviceId.optional(),
});
export type CreateWorkspaceBody = z.infer<typeof CreateWorkspaceBody>;

export const ListWorkspacesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  page_token: z.string().max(512).optional(),
  status: WorkspaceStatus.optional(),
  /** `all` lists every user's workspaces; admins only. */
  scope: z.enum(['mine', 'all']).default('mine'),
});
export type ListWorkspacesQuery = z.infer<typeof ListWorkspacesQuery>;

export const WorkspaceList = z.object({
  workspaces: z.array(Workspace),
  next_page_token: z.string().nullable(),
});
export type WorkspaceList = z.infer<typeof WorkspaceList>;

/** `PATCH /workspaces/:id`: what an owner may change of a workspace. */
export const UpdateWorkspaceBody = z.strictObject({ name: WorkspaceName });
export type UpdateWorkspaceBody = z.infer<typeof UpdateWorkspaceBody>;

/**
 * `POST …/connect`; the body may be absent or `{}`: the device is then the
 * caller's default, the one last recorded on the workspace (else the one that created it).
 */
export const ConnectBody = z.strictObject({ device_id: DeviceId.optional() });
export type ConnectBody = z.infer<typeof ConnectBody>;
export const ExtendBody = z.strictObject({ minutes: z.number().int().min(1) });
export type ExtendBody = z.infer<typeof ExtendBody>;

/** `GET /workspaces/:id/status`: the reconciled workspace and what GCE says now. */
export const WorkspaceStatusReport = z.object({
  workspace: Workspace,
  instance_status: z.string().nullable(),
  deadline: z.string().nullable(),
});
export type WorkspaceStatusReport = z.infer<typeof WorkspaceStatusReport>;

// Per-user resources (/me) and the vm-agent's callbacks: shared by the hub, the client and the agent.

/** `GET /health`: liveness and the hub's version; no auth, no Firestore. */
export const Health = z.object({
  ok: z.boolean(),
  version: z.string(),
  /**
   * Whether the hub reached Firestore on its last try ('unknown' before the
   * first). Optional so clients still read hubs that predate it.
   */
  firestore: z.enum(['ok', 'unavailable', 'unknown']).optional(),
  /** `HUB_AUTH`: the web page offers its own sign-in form only to a `dev` hub. */
  auth: AuthMode.optional(),
});
export type Health = z.infer<typeof Health>;

/** `GET /me`: who the hub takes the caller for, after its verifier and allow-list. */
export const Me = z.object({
  sub: z.string(),
  email: z.string(),
  /** Listed in HUB_ADMINS: may list every user's workspaces (`scope=all`) and act on them. */
  admin: z.boolean(),
});
export type Me = z.infer<typeof Me>;

/** A device's SSH public key, as `/me/keys` returns it. */
export const SshKey = z.object({
  name: z.string(),
  owner_id: z.string(),
  owner_email: z.string(),
  public_key: z.string(),
  fingerprint: z.string(),
  created_at: z.string(),
});
export type SshKey = z.infer<typeof SshKey>;

export const PutKeyBody = z.strictObject({ public_key: z.string().min(1).max(16_384) });
export type PutKeyBody = z.infer<typeof PutKeyBody>;

/** A settings blob, as `/me/sync/:name` returns it. */
export const SyncBlob = z.object({
  name: z.string(),
  content: z.string(),
  version: z.number().int(),
  etag: z.string(),
  device_id: z.string().nullable(),
  updated_at: z.string(),
});
export type SyncBlob = z.infer<typeof SyncBlob>;

export const PutSyncBody = z.strictObject({
  content: z.string(),
  device_id: z.string().max(64).optional(),
});
export type PutSyncBody = z.infer<typeof PutSyncBody>;

/** `POST /agent/ready`: sent at start and after every resume. */
export const AgentReadyBody = z.strictObject({
  workspace_id: z.string(),
  agent_version: z.string().max(64),
  host_key_fingerprint: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA256 fingerprint'),
  port: z.number().int().min(1).max(65535),
  host_public_key: z.string().max(8192).optional(),
});
export type AgentReadyBody = z.infer<typeof AgentReadyBody>;

/** `POST /agent/heartbeat`: activity since the last one. */
export const AgentHeartbeatBody = z.strictObject({
  workspace_id: z.string(),
  last_activity_at: z.iso.datetime({ offset: true }),
  sessions: z.number().int().min(0),
  attached_devices: z.array(z.string().max(64)).max(100).default([]),
});
export type AgentHeartbeatBody = z.infer<typeof AgentHeartbeatBody>;

/** The hub's answer to a callback; `report_ready` asks a resumed agent to report ready. */
export const AgentAck = z.object({ ok: z.boolean(), report_ready: z.boolean() });
export type AgentAck = z.infer<typeof AgentAck>;

/** `GET /agent/authorized-keys`. */
export const AuthorizedKeys = z.object({
  keys: z.array(
    z.object({
      /** The device id the agent records for the key. */
      name: z.string(),
      public_key: z.string(),
      /** The email the agent records. */
      owner: z.string(),
      /** `hub`: a key of one of the hub's own connections for `owner` (browser terminal, files). */
      via: z.literal('hub').optional(),
    }),
  ),
});
export type AuthorizedKeys = z.infer<typeof AuthorizedKeys>;
