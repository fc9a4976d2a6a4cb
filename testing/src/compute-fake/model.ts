import { createHash } from 'node:crypto';

/** The fake's state: instances, their status progressions, and zone operations. */

export type FakeStatus =
  | 'PROVISIONING'
  | 'STAGING'
  | 'RUNNING'
  | 'STOPPING'
  | 'TERMINATED'
  | 'SUSPENDING'
  | 'SUSPENDED'
  | 'REPAIRING';

export type FakeMethod =
  | 'insert'
  | 'delete'
  | 'start'
  | 'stop'
  | 'suspend'
  | 'resume'
  | 'setLabels';

export interface FakeInstance {
  project: string;
  zone: string;
  name: string;
  id: string;
  status: FakeStatus;
  statusMessage?: string;
  /** The insert body as received. */
  resource: Record<string, unknown>;
  /** The internal IP GCE assigned to each network interface (`networkIP`), in order. */
  internalIps: string[];
  labels: Record<string, string>;
  creationTimestamp: string;
}

export interface FakeOperation {
  name: string;
  zone: string;
  project: string;
  operationType: FakeMethod;
  targetName: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  error?: { code: string; message: string };
  insertTime: string;
  endTime?: string;
}

export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const key = (zone: string, name: string) => `${zone}/${name}`;

/** GCE's `labelFingerprint`: opaque base64 that changes whenever the labels do. */
export function labelFingerprint(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash('sha256')
    .update(JSON.stringify(sorted))
    .digest()
    .subarray(0, 8)
    .toString('base64');
}

/**
 * Instances move through GCE's statuses on timers (`stepMs` apart), and each
 * mutating call gets an operation that is DONE when its instance settles.
 */
export class ComputeModel {
  readonly instances = new Map<string, FakeInstance>();
  readonly operations = new Map<string, FakeOperation>();
  private readonly byRequestId = new Map<string, FakeOperation>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<FakeMethod, { code: string; message: string }>();
  readonly refusedSuspend = new Map<string, string>();
  private counter = 0;
  /** Internal addresses handed out so far: each instance gets an unused one. */
  private addresses = 0;

  constructor(private readonly stepMs: number) {}

  find(zone: string, name: string): FakeInstance {
    const inst = this.instances.get(key(zone, name));
    if (!inst)
      throw new ApiError(
        404,
        'notFound',
        `The resource 'zones/${zone}/instances/${name}' was not found`,
      );
    return inst;
  }

  failNextOperation(method: FakeMethod, error: { code: string; message: string }) {
    this.failures.set(method, error);
  }

  private later(fn: () => void, steps = 1) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, this.stepMs * steps);
    this.timers.add(t);
  }

  /** Runs `steps` status changes, then finishes the operation. */
  private progress(
    op: FakeOperation,
    inst: FakeInstance | null,
    steps: Array<FakeStatus | 'GONE'>,
    /** The status before the call, which a failed operation leaves the instance in. */
    was?: FakeStatus,
  ) {
    const failure = this.failures.get(op.operationType);
    if (failure) this.failures.delete(op.operationType);
    // One step at a time, each scheduled by the one before: timers of different
    // lengths may fire out of order when the event loop is busy.
    const finish = () => {
      op.status = 'DONE';
      op.endTime = new Date().toISOString();
      if (failure) {
        op.error = failure;
        // A failed insert leaves no instance behind, as on GCE.
        if (op.operationType === 'insert' && inst) this.instances.delete(key(inst.zone, inst.name));
        else if (inst && was) inst.status = was;
      }
    };
    const step = (i: number) => {
      // PENDING until the first step, as GCE answers before it starts the work.
      op.status = 'RUNNING';
      if (i === steps.length || failure || !inst) return finish();
      const s = steps[i]!;
      if (s === 'GONE') this.instances.delete(key(inst.zone, inst.name));
      else inst.status = s;
      this.later(() => step(i + 1));
    };
    this.later(() => step(0));
  }

  private newOperation(
    project: string,
    zone: string,
    method: FakeMethod,
    target: string,
  ): FakeOperation {
    const op: FakeOperation = {
      name: `operation-${Date.now()}-${++this.counter}`,
      zone,
      project,
      operationType: method,
      targetName: target,
      status: 'PENDING',
      insertTime: new Date().toISOString(),
    };
    this.operations.set(op.name, op);
    return op;
  }

  /** A repeated requestId returns the first operation and has no second effect. */
  call(
    project: string,
    zone: string,
    method: FakeMethod,
    name: string,
    requestId: string | undefined,
    body?: Record<string, unknown>,
  ): FakeOperation {
    const dedupe = requestId ? `${method}/${zone}/${name}/${requestId}` : null;
    const seen = dedupe ? this.byRequestId.get(dedupe) : undefined;
    if (seen) return seen;
    const op = this.apply(project, zone, method, name, body);
    if (dedupe) this.byRequestId.set(dedupe, op);
    return op;
  }

  /**
   * GCE gives each network interface without a `networkIP` an unused internal IP of its
   * subnetwork (Compute API reference, `instances` resource, `networkInterfaces[].networkIP`).
   */
  private assignInternalIps(body: Record<string, unknown> | undefined): string[] {
    const nics = Array.isArray(body?.networkInterfaces) ? body.networkInterfaces : [];
    return nics.map((nic: { networkIP?: unknown }) => {
      if (typeof nic.networkIP === 'string') return nic.networkIP;
      const n = this.addresses++;
      return `10.132.${Math.floor(n / 250)}.${(n % 250) + 2}`;
    });
  }

  private apply(
    project: string,
    zone: string,
    method: FakeMethod,
    name: string,
    body?: Record<string, unknown>,
  ) {
    if (method === 'insert') {
      if (this.instances.has(key(zone, name)))
        throw new ApiError(
          409,
          'alreadyExists',
          `The resource 'projects/${project}/zones/${zone}/instances/${name}' already exists`,
        );
      const inst: FakeInstance = {
        project,
        zone,
        name,
        id: String(1e15 + ++this.counter),
        status: 'PROVISIONING',
        resource: body ?? {},
        internalIps: this.assignInternalIps(body),
        labels: (body?.labels as Record<string, string>) ?? {},
        creationTimestamp: new Date().toISOString(),
      };
      this.instances.set(key(zone, name), inst);
      const op = this.newOperation(project, zone, method, name);
      this.progress(op, inst, ['STAGING', 'RUNNING']);
      return op;
    }
    const inst = this.find(zone, name);
    const was = inst.status;
    const op = () => this.newOperation(project, zone, method, name);
    switch (method) {
      case 'delete': {
        const o = op();
        inst.status = 'STOPPING';
        this.progress(o, inst, ['GONE'], was);
        return o;
      }
      case 'stop': {
        const o = op();
        if (inst.status === 'TERMINATED') this.progress(o, inst, [], was);
        else {
          inst.status = 'STOPPING';
          this.progress(o, inst, ['TERMINATED'], was);
        }
        return o;
      }
      case 'suspend': {
        // GCE's answers, from "Troubleshooting suspending and resuming instances".
        const byState: Partial<Record<FakeStatus, string>> = {
          SUSPENDING: 'You cannot suspend an already suspended instance.',
          SUSPENDED: 'You cannot suspend an already suspended instance.',
          STOPPING: 'You cannot suspend an instance that is stopped or terminated.',
          TERMINATED: 'You cannot suspend an instance that is stopped or terminated.',
          REPAIRING: 'You cannot suspend an instance that is being repaired.',
        };
        const refusal =
          byState[inst.status] ??
          this.refusedSuspend.get(name) ??
          ((inst.resource.guestAccelerators as unknown[] | undefined)?.length
            ? 'Instances with guest accelerators do not support suspend.'
            : undefined);
        if (refusal) throw new ApiError(400, 'unsupportedOperation', refusal);
        if (inst.status !== 'RUNNING')
          throw new ApiError(
            400,
            'resourceNotReady',
            `The instance '${name}' is ${inst.status}; only RUNNING instances can be suspended`,
          );
        const o = op();
        inst.status = 'SUSPENDING';
        this.progress(o, inst, ['SUSPENDED'], was);
        return o;
      }
      case 'resume': {
        if (inst.status !== 'SUSPENDED')
          throw new ApiError(
            400,
            'resourceNotReady',
            `The instance '${name}' is ${inst.status}; only SUSPENDED instances can be resumed`,
          );
        const o = op();
        this.progress(o, inst, ['STAGING', 'RUNNING'], was);
        return o;
      }
      case 'setLabels': {
        // instances.setLabels replaces the whole map, and only from the labels
        // the caller last read: GCE refuses a stale or missing fingerprint.
        const given = body?.labelFingerprint;
        if (typeof given !== 'string' || given !== labelFingerprint(inst.labels))
          throw new ApiError(
            412,
            'conditionNotMet',
            'Labels fingerprint either invalid or resource labels have changed',
          );
        inst.labels = { ...(body?.labels as Record<string, string> | undefined) };
        const o = op();
        this.progress(o, inst, [], was);
        return o;
      }
      case 'start': {
        if (inst.status === 'SUSPENDED' || inst.status === 'SUSPENDING')
          throw new ApiError(
            400,
            'resourceNotReady',
            `The instance '${name}' is ${inst.status}; use resume`,
          );
        const o = op();
        if (inst.status === 'RUNNING') this.progress(o, inst, [], was);
        else this.progress(o, inst, ['STAGING', 'RUNNING'], was);
        return o;
      }
    }
  }

  /** True while an operation on the instance is unfinished. */
  busy(name: string): boolean {
    for (const op of this.operations.values())
      if (op.targetName === name && op.status !== 'DONE') return true;
    return false;
  }

  close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
