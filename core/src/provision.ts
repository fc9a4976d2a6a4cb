import { createHash } from 'node:crypto';
import type { CreateWorkspaceBody, Workspace } from '@workspace-hub/api';
import type { Actor } from './actor.js';
import type { ComputeDriver, InstanceSpec } from './compute/driver.js';
import { HUB_LABEL, WORKSPACE_LABEL } from './compute/driver.js';
import { HubError } from './errors.js';
import { recordedActor } from './events.js';
import { deterministicRequestId, newWorkspaceId } from './ids.js';
import { baseNameFromRepo } from './names.js';
import type { WorkspaceStore } from './store/workspace-store.js';
import { recordFailure } from './transitions.js';

export interface Owner {
  sub: string;
  email: string;
}

/** The deployment's rules for new workspaces (from the hub's configuration). */
export interface ProvisionPolicy {
  projectId: string;
  defaultZone: string;
  allowedZones: readonly string[];
  defaultMachineType: string;
  allowedMachineTypes: readonly string[];
  defaultDiskSizeGb: number;
  defaultImageTag: string;
  idleTimeoutMinutes: number;
  maxWorkspacesPerUser?: number;
}

export interface ProvisionDeps {
  store: WorkspaceStore;
  driver: ComputeDriver;
  policy: ProvisionPolicy;
  /** Builds what the driver needs beyond the document (user-data, image, agent env). */
  instanceExtras(ws: Workspace): Promise<Pick<InstanceSpec, 'userData' | 'image' | 'agentEnv'>>;
}

function pick(
  value: string | undefined,
  fallback: string,
  allowed: readonly string[],
  field: string,
) {
  const v = value ?? fallback;
  if (allowed.length > 0 && !allowed.includes(v))
    throw new HubError(
      'invalid_argument',
      `${field} ${v} is not allowed here; allowed: ${allowed.join(', ')}`,
      {
        field,
      },
    );
  return v;
}

/** The new workspace's document, before anything is written. */
export function newWorkspace(
  owner: Owner,
  body: CreateWorkspaceBody,
  policy: ProvisionPolicy,
  now: Date,
): Workspace {
  const id = newWorkspaceId();
  const t = now.toISOString();
  return {
    id,
    // The owner's name, or the base the store makes unique (`my-app-2`).
    name: body.name ?? baseNameFromRepo(body.repo),
    owner_id: owner.sub,
    owner_email: owner.email,
    instance_name: id,
    zone: pick(body.zone, policy.defaultZone, policy.allowedZones, 'zone'),
    project_id: policy.projectId,
    image_tag: body.image_tag ?? policy.defaultImageTag,
    machine_type: pick(
      body.machine_type,
      policy.defaultMachineType,
      policy.allowedMachineTypes,
      'machine_type',
    ),
    disk_size_gb: body.disk_size_gb ?? policy.defaultDiskSizeGb,
    status: 'PROVISIONING',
    status_reason: null,
    last_connected_at: null,
    last_activity_at: t,
    last_device_id: body.device_id ?? null,
    idle_timeout_minutes: body.idle_timeout_minutes ?? policy.idleTimeoutMinutes,
    deadline: null,
    metadata: {
      repo: body.repo ?? null,
      branch: body.branch ?? null,
      device_id: body.device_id ?? null,
    },
    agent: null,
    operation: { name: null, kind: 'insert', started_at: t },
    error: null,
    created_at: t,
    updated_at: t,
    version: 1,
  };
}

/**
 * Creates the document (idempotently, within quota), then asks the driver for
 * the instance. A retried request with the same idempotency key returns the
 * first workspace, and finishes its create if that one was cut short (the hub
 * stopped between the document and the insert): its insert carries the same
 * requestId, so GCE makes one VM.
 */
export async function provisionWorkspace(
  deps: ProvisionDeps,
  owner: Owner,
  body: CreateWorkspaceBody,
  opts: { idempotencyKey?: string; now?: Date; actor: Actor },
): Promise<{ workspace: Workspace; created: boolean }> {
  const now = opts.now ?? new Date();
  const draft = newWorkspace(owner, body, deps.policy, now);
  // The create names its device in its body.
  const actor: Actor =
    opts.actor.kind === 'user' && body.device_id && !opts.actor.device_id
      ? { ...opts.actor, device_id: body.device_id }
      : opts.actor;
  const { workspace, created } = await deps.store.create(draft, {
    idempotencyKey: opts.idempotencyKey,
    // The parsed body: its keys in the schema's order, so the same request gives the same digest.
    requestDigest: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
    maxPerOwner: deps.policy.maxWorkspacesPerUser,
    exactName: body.name !== undefined,
    event: {
      actor: recordedActor(actor, draft, now),
      action: 'create',
      outcome: 'accepted',
      at: now,
    },
  });
  if (!created)
    return { workspace: await finishInterruptedCreate(deps, workspace, { actor, now }), created };
  return { workspace: await insertInstance(deps, workspace, actor, now), created };
}

export type InsertDeps = Pick<ProvisionDeps, 'store' | 'driver' | 'instanceExtras'>;

/** Whether the workspace's insert was never recorded: its create was cut short, or is under way. */
export function isInsertUnrecorded(ws: Workspace): boolean {
  return ws.status === 'PROVISIONING' && ws.operation?.kind === 'insert' && !ws.operation.name;
}

/**
 * Finishes a create cut short between its document and its insert: makes the
 * insert (same requestId) unless the instance exists already, in which case
 * reconcile takes it from there. Anything else is returned as it is.
 */
export async function finishInterruptedCreate(
  deps: InsertDeps,
  ws: Workspace,
  opts: { actor: Actor; now: Date },
): Promise<Workspace> {
  if (!isInsertUnrecorded(ws)) return ws;
  if (await deps.driver.get(ws.zone, ws.instance_name)) return ws;
  return insertInstance(deps, ws, opts.actor, opts.now);
}

/** The insert of a PROVISIONING workspace, recorded on its document; a refusal marks it ERROR. */
async function insertInstance(
  deps: InsertDeps,
  workspace: Workspace,
  actor: Actor,
  now: Date,
): Promise<Workspace> {
  try {
    const extras = await deps.instanceExtras(workspace);
    const op = await deps.driver.create(
      {
        name: workspace.instance_name,
        zone: workspace.zone,
        machineType: workspace.machine_type,
        diskSizeGb: workspace.disk_size_gb,
        labels: { [HUB_LABEL]: 'true', [WORKSPACE_LABEL]: workspace.id },
        ...extras,
      },
      deterministicRequestId(workspace.id, 'insert'),
    );
    const recorded = await deps.store.updateIfVersion(workspace.id, workspace.version, {
      operation: { name: op.name, kind: 'insert', started_at: workspace.created_at },
    });
    return recorded ?? (await deps.store.get(workspace.id)) ?? workspace;
  } catch (err) {
    await recordFailure(deps.store, workspace.id, workspace.version, err, {
      actor: recordedActor(actor, workspace, now),
      action: 'create',
      at: now,
    });
    throw err;
  }
}
