/**
 * What the hub needs from a compute backend. Calls start long-running work and
 * return at once with an operation; completion is observed later by `reconcile`.
 */

import type { Settled } from '../each-limited.js';

export type { Settled };

/** Compute Engine's instance statuses (the local driver maps onto the same set). */
export const INSTANCE_STATUSES = [
  'PROVISIONING',
  'STAGING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'SUSPENDING',
  'SUSPENDED',
  'TERMINATED',
  'REPAIRING',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export interface InstanceState {
  name: string;
  zone: string;
  status: InstanceStatus;
  labels: Record<string, string>;
  /** Set when the backend has a reason for the status (e.g. preemption). */
  statusMessage?: string;
  /**
   * Set when the backend's own stop ended the instance (local mode: stopping the
   * hub ends its agents), as the whole reason a user reads: not a change made
   * outside the hub. GCE never sets it.
   */
  stopReason?: string;
  /**
   * Where the hub reaches the agent: GCE's `networkInterfaces[0].networkIP` (the internal IP,
   * through Direct VPC egress), local: loopback. Only `get` fills it (`list` asks for less).
   */
  internalIp?: string;
}

export interface InstanceSpec {
  name: string;
  zone: string;
  machineType: string;
  diskSizeGb: number;
  /** Full `#cloud-config` text; goes in the `user-data` metadata key. */
  userData: string;
  labels: Record<string, string>;
  /** Workspace image reference, for drivers that run it directly. */
  image: string;
  /** Extra environment for drivers that start the agent themselves (local). */
  agentEnv?: Record<string, string>;
}

export interface OperationRef {
  name: string;
  zone: string;
}

export interface OperationState {
  done: boolean;
  error: { code: string; message: string } | null;
}

export interface SuspendResult {
  /** `null` when there is nothing to wait for: the instance was suspended or stopped already. */
  operation: OperationRef | null;
  /** Set when the instance is being (or was already) stopped instead: its memory is not kept. */
  fallbackReason: string | null;
}

/** One of many instance calls (`suspendMany`, `deleteMany`). */
export interface InstanceCall {
  zone: string;
  name: string;
  requestId: string;
}

export interface ComputeDriver {
  readonly kind: 'gce' | 'local';
  create(spec: InstanceSpec, requestId: string): Promise<OperationRef>;
  /** `null` when the instance does not exist. */
  get(zone: string, name: string): Promise<InstanceState | null>;
  suspend(zone: string, name: string, requestId: string): Promise<SuspendResult>;
  /** Resumes a suspended instance or starts a stopped one. */
  resume(zone: string, name: string, requestId: string): Promise<OperationRef>;
  /** `null` when the instance was already gone. */
  delete(zone: string, name: string, requestId: string): Promise<OperationRef | null>;
  /**
   * Shuts a suspended instance down cleanly: resumes it, then stops it. (A
   * suspended instance stopped as it is loses its memory without the guest
   * ever shutting down; GCE terminates one suspended for 60 days that way.)
   */
  stopSuspended(zone: string, name: string, requestId: string): Promise<OperationRef>;
  /**
   * `suspend` for many instances, answered in order, each as its single call
   * would have returned or thrown. GCE sends them through its batch endpoint:
   * a sweep's hundreds of calls in a few HTTP requests.
   */
  suspendMany(calls: readonly InstanceCall[]): Promise<Settled<SuspendResult>[]>;
  /** `delete` for many instances, the same way. */
  deleteMany(calls: readonly InstanceCall[]): Promise<Settled<OperationRef | null>[]>;
  /**
   * Sets an orphan aside: stops it (a suspended one stays suspended) and labels
   * it QUARANTINE_LABEL, keeping its disks (GCE) or home folder (local) for an
   * admin to look at; only an explicit `delete` removes it. Repeating it is harmless.
   */
  quarantine(zone: string, name: string, requestId: string): Promise<void>;
  getOperation(op: OperationRef): Promise<OperationState>;
  /** Waits up to `timeoutMs` (bounded by the backend's own wait limit). */
  waitOperation(op: OperationRef, timeoutMs: number): Promise<OperationState>;
  /** Instances carrying all of these labels, across the given zones. */
  list(zones: readonly string[], labels: Record<string, string>): Promise<InstanceState[]>;
  /**
   * Homes no instance describes (local: a folder under the data dir without
   * its instance record). They may hold work: reported to admins, never
   * deleted by the hub.
   */
  strayHomes?(): Promise<StrayHome[]>;
  close?(): Promise<void>;
}

/** A home folder that belongs to no instance, as admins see it. */
export interface StrayHome {
  /** The folder's name (a workspace id, for folders a workspace left). */
  name: string;
  path: string;
}

/** Labels every instance of ours carries; orphan detection relies on them. */
export const HUB_LABEL = 'workspace-hub';
export const WORKSPACE_LABEL = 'workspace-id';
/** Set (to `true`) on an orphan the sweep stopped and kept instead of deleting it. */
export const QUARANTINE_LABEL = 'workspace-hub-quarantined';
