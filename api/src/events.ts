import { z } from 'zod';
import { DeviceId } from './ids.js';
import { WorkspaceError, WorkspaceStatus } from './workspace.js';

/**
 * Who or what changed a workspace's state: its owner or an admin (from a
 * device, when the client said which), the idle sweep, the rest of the
 * cleanup sweep (retention, the 60-day limit, finishing an interrupted call),
 * reconcile after it observed Compute Engine (a status read, the sweep's
 * repair, a hub starting up), Compute Engine itself (an audit-log event the
 * reconcile function received), or the workspace's agent.
 */
export const EVENT_ACTOR_KINDS = [
  'owner',
  'admin',
  'idle_sweep',
  'cleanup',
  'reconcile',
  'compute_engine',
  'agent',
] as const;
export const EventActorKind = z.enum(EVENT_ACTOR_KINDS);
export type EventActorKind = z.infer<typeof EventActorKind>;

export const EventActor = z.object({
  kind: EventActorKind,
  /** owner, admin: who acted (an admin's action is the admin's, not the owner's). */
  email: z.string().optional(),
  /** owner, admin: the device the request came from, when the client named it. */
  device_id: DeviceId.optional(),
  /** idle_sweep: how long the workspace had been idle, in minutes. */
  idle_minutes: z.number().int().min(0).optional(),
  /** reconcile, compute_engine: the instance status Compute Engine reported. */
  instance_status: z.string().optional(),
  /** compute_engine: the audit-log method, e.g. `v1.compute.instances.stop`. */
  gce_event: z.string().max(200).optional(),
  /** reconcile: what made it look (`status-read`, `sweep`: the repair of stuck transitions, `hub-start`). */
  via: z.string().max(64).optional(),
  /** cleanup: the sweep's rule (`retention`, `suspended-limit`). */
  rule: z.string().max(64).optional(),
});
export type EventActor = z.infer<typeof EventActor>;

/** What was asked or observed: a user action, or `reconcile` for drift found outside the hub. */
export const EVENT_ACTIONS = ['create', 'start', 'stop', 'delete', 'reconcile'] as const;
export const EventAction = z.enum(EVENT_ACTIONS);
export type EventAction = z.infer<typeof EventAction>;

/** `accepted`: claimed, the compute call is under way; `succeeded`/`failed`: its end. */
export const EVENT_OUTCOMES = ['accepted', 'succeeded', 'failed'] as const;
export const EventOutcome = z.enum(EVENT_OUTCOMES);
export type EventOutcome = z.infer<typeof EventOutcome>;

/** Event ids sort by time (ms, then a per-process counter), then random: `[0-9a-z]{20}`. */
export const EVENT_ID_PATTERN = /^[0-9a-z]{20}$/;

/**
 * The header a client names its device in (`wsh` sends its device id), so
 * a start, stop or delete is recorded with the device it came from.
 */
export const DEVICE_ID_HEADER = 'x-device-id';

/** One change of a workspace's state, as `GET /workspaces/:id/events` returns it. */
export const WorkspaceEvent = z.object({
  id: z.string().regex(EVENT_ID_PATTERN),
  workspace_id: z.string(),
  at: z.iso.datetime({ offset: true }),
  actor: EventActor,
  action: EventAction,
  outcome: EventOutcome,
  /** `null`: the workspace was created by this change. */
  status_before: WorkspaceStatus.nullable(),
  /** `null`: the workspace was removed by this change. */
  status_after: WorkspaceStatus.nullable(),
  /** The workspace's `status_reason` after the change, or why it failed. */
  reason: z.string().nullable(),
  error: WorkspaceError.nullable(),
});
export type WorkspaceEvent = z.infer<typeof WorkspaceEvent>;

export const ListEventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  page_token: z.string().max(512).optional(),
});
export type ListEventsQuery = z.infer<typeof ListEventsQuery>;

/** Newest first. */
export const EventList = z.object({
  events: z.array(WorkspaceEvent),
  next_page_token: z.string().nullable(),
});
export type EventList = z.infer<typeof EventList>;
