import type { InstancesClient, protos, ZoneOperationsClient } from '@google-cloud/compute';
import type { OAuth2Client } from 'google-auth-library';
import { type Settled, settle, settleEach } from '../each-limited.js';
import { HubError, isHubError } from '../errors.js';
import { deterministicRequestId } from '../ids.js';
import {
  type ComputeDriver,
  HUB_LABEL,
  INSTANCE_STATUSES,
  type InstanceCall,
  type InstanceSpec,
  type InstanceState,
  type InstanceStatus,
  type OperationRef,
  type OperationState,
  QUARANTINE_LABEL,
  type SuspendResult,
  WORKSPACE_LABEL,
} from './driver.js';
import { BATCH_LIMIT, BATCH_PATH, decodeBatch, encodeBatch, type RestCall } from './gce-batch.js';
import { isSuspendRefusal, restErrorToHub, toHubError } from './gce-errors.js';
import { networkUrl, subnetworkUrl } from './gce-network.js';
import { computeRest, requestFailure } from './gce-rest.js';
import { readSuspendRefusal } from './gce-suspend.js';

export const COS_IMAGE = 'projects/cos-cloud/global/images/family/cos-stable';
export const HOME_DEVICE_NAME = 'home';

export interface GceDriverOptions {
  projectId: string;
  /** The Compute REST endpoint, e.g. `http://127.0.0.1:9000` for a fake; default Google's. */
  endpoint?: string;
  /** Credentials for the Compute client; default ADC. */
  authClient?: OAuth2Client;
  /** A name, or a full or partial URL (`global/networks/N`); names become partial URLs. */
  network?: string;
  /** A name (in the zone's region), or a full or partial URL (`regions/R/subnetworks/N`). */
  subnetwork?: string;
  /** The workspace VMs' service account; default the project's compute default. */
  serviceAccount?: string;
  /** The tag the IAP firewall rule targets. */
  networkTag?: string;
  /**
   * An ephemeral external IP (default none: the VM is reached through IAP, and
   * its egress goes through Cloud NAT / Private Google Access on the subnetwork).
   * Even with one, ingress stays closed but for IAP's range (the firewall rule).
   */
  externalIp?: boolean;
  bootDiskGb?: number;
  /**
   * How long `suspend` looks at its operation for an immediate refusal (then it
   * stops instead); 0 returns at once and leaves a failed suspend to reconcile.
   */
  suspendRefusalWaitMs?: number;
}

interface Clients {
  instances: InstancesClient;
  operations: ZoneOperationsClient;
}

type ComputeInstance = protos.google.cloud.compute.v1.IInstance;

const STATUSES = new Set<string>(INSTANCE_STATUSES);
/** How long `stopSuspended` waits for the resume (GCE restores the memory first). */
const RESUME_TO_STOP_WAIT_MS = 180_000;
/** All `list` reads of an instance: GCE sends only these (a full instance is ~1.4 KB of JSON). */
const LIST_FIELDS = 'items(name,zone,status,statusMessage,labels),nextPageToken';

function clientOptions(opts: GceDriverOptions, authClient: OAuth2Client | undefined) {
  const auth = authClient ? { authClient } : {};
  if (!opts.endpoint) return auth;
  const url = new URL(opts.endpoint);
  return {
    apiEndpoint: url.hostname,
    port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)),
    protocol: url.protocol.replace(':', ''),
    fallback: true,
    ...auth,
  };
}

function lastSegment(link: string | null | undefined): string {
  return (link ?? '').split('/').pop() ?? '';
}

function toState(inst: ComputeInstance, zone: string): InstanceState {
  const status = String(inst.status ?? 'PROVISIONING');
  return {
    name: String(inst.name),
    zone: lastSegment(inst.zone) || zone,
    status: (STATUSES.has(status) ? status : 'PROVISIONING') as InstanceStatus,
    labels: { ...(inst.labels ?? {}) },
    ...(inst.statusMessage ? { statusMessage: inst.statusMessage } : {}),
    ...(inst.networkInterfaces?.[0]?.networkIP
      ? { internalIp: inst.networkInterfaces[0].networkIP }
      : {}),
  };
}

/** Compute Engine. The client library is imported on first use: it is heavy, and cold starts matter. */
export function createGceDriver(opts: GceDriverOptions): ComputeDriver {
  const project = opts.projectId;
  const api = computeRest(opts);
  let clients: Promise<Clients> | undefined;
  const load = () => {
    clients ??= import('@google-cloud/compute').then((m) => {
      const o = clientOptions(opts, api.authClient);
      return { instances: new m.InstancesClient(o), operations: new m.ZoneOperationsClient(o) };
    });
    return clients;
  };

  /** Starts an instance operation and returns it without waiting. */
  async function start(
    what: string,
    zone: string,
    call: (
      c: InstancesClient,
    ) => Promise<[{ latestResponse?: unknown; name?: string | null }, ...unknown[]]>,
  ): Promise<OperationRef> {
    const { instances } = await load();
    try {
      const [op] = await call(instances);
      const name = (op.latestResponse as { name?: string } | undefined)?.name ?? op.name;
      if (!name) throw new HubError('upstream_error', `${what}: GCE returned no operation`);
      return { name, zone };
    } catch (err) {
      throw toHubError(err, what);
    }
  }

  const resourceFor = (spec: InstanceSpec) => {
    const diskType = `zones/${spec.zone}/diskTypes/pd-balanced`;
    return {
      name: spec.name,
      machineType: `zones/${spec.zone}/machineTypes/${spec.machineType}`,
      // Ours last: orphan detection and `list` rely on them, whatever the caller passed.
      labels: { ...spec.labels, [HUB_LABEL]: 'true', [WORKSPACE_LABEL]: spec.name },
      tags: { items: [opts.networkTag ?? 'workspace-hub'] },
      metadata: {
        items: [
          { key: 'user-data', value: spec.userData },
          { key: 'google-logging-enabled', value: 'true' },
        ],
      },
      disks: [
        {
          boot: true,
          autoDelete: true,
          initializeParams: {
            sourceImage: COS_IMAGE,
            diskSizeGb: String(opts.bootDiskGb ?? 20),
            diskType,
          },
        },
        {
          // The home disk: separate, so the boot disk (and image) can be replaced without losing work.
          boot: false,
          autoDelete: true,
          deviceName: HOME_DEVICE_NAME,
          initializeParams: {
            diskName: `${spec.name}-home`,
            diskSizeGb: String(spec.diskSizeGb),
            diskType,
          },
        },
      ],
      networkInterfaces: [
        {
          ...(opts.network ? { network: networkUrl(opts.network) } : {}),
          ...(opts.subnetwork ? { subnetwork: subnetworkUrl(opts.subnetwork, spec.zone) } : {}),
          ...(opts.externalIp
            ? { accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }
            : {}),
        },
      ],
      serviceAccounts: [
        {
          email: opts.serviceAccount ?? 'default',
          scopes: ['https://www.googleapis.com/auth/cloud-platform'],
        },
      ],
      shieldedInstanceConfig: {
        enableSecureBoot: true,
        enableVtpm: true,
        enableIntegrityMonitoring: true,
      },
      scheduling: { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
    };
  };

  /**
   * A suspend GCE answered. A refusal (in the answer, or in its operation at
   * once) is read against the instance's status: only a running instance that
   * cannot be suspended is stopped instead, so it still stops costing; one
   * suspended already keeps its saved memory.
   */
  async function finishSuspend(
    call: InstanceCall,
    answer: Settled<OperationRef>,
  ): Promise<SuspendResult> {
    let refusal: string;
    if (answer.ok) {
      const operation = answer.value;
      // GCE may also accept the call and fail the operation straight away; a short
      // look lets the stop fallback follow at once instead of leaving a failed suspend.
      const waitMs = opts.suspendRefusalWaitMs ?? 2000;
      const state = waitMs > 0 ? await driver.waitOperation(operation, waitMs) : null;
      if (!state?.error || !isSuspendRefusal(state.error))
        return { operation, fallbackReason: null };
      refusal = state.error.message;
    } else {
      const err = answer.error;
      if (!isHubError(err) || !isSuspendRefusal(err)) throw err;
      refusal = err.message.replace(/^suspend [^:]+: /, '');
    }
    const instance = await driver.get(call.zone, call.name);
    if (!instance)
      throw new HubError('not_found', `suspend ${call.name}: the instance no longer exists`);
    switch (readSuspendRefusal(instance.status, refusal).kind) {
      case 'suspended':
        return { operation: null, fallbackReason: null };
      case 'stopped':
        return {
          operation: null,
          fallbackReason: `the instance was already ${instance.status} (${instance.statusMessage ?? refusal}); memory and open terminals were not kept`,
        };
      case 'retry':
        throw new HubError(
          'upstream_unavailable',
          `suspend ${call.name}: GCE refused (${refusal}) while the instance was ${instance.status}; try again later`,
        );
      case 'stop':
        break;
    }
    const stop = { ...call, requestId: deterministicRequestId(call.requestId, 'stop-instead') };
    const operation = await restOperation(
      'POST',
      instancePath(stop, '/stop'),
      `stop ${call.name}`,
      call.zone,
    );
    return {
      operation,
      fallbackReason: `GCE refused to suspend (${refusal}); stopped instead, so memory and open terminals are not kept`,
    };
  }

  const zonePath = (zone: string) =>
    `/compute/v1/projects/${encodeURIComponent(project)}/zones/${encodeURIComponent(zone)}`;
  const instancePath = (c: InstanceCall, verb = '') =>
    `${zonePath(c.zone)}/instances/${encodeURIComponent(c.name)}${verb}` +
    `?requestId=${encodeURIComponent(c.requestId)}`;

  /** An instance call by plain REST, answered with its operation. */
  async function restOperation(
    method: 'POST' | 'DELETE',
    path: string,
    what: string,
    zone: string,
    body?: unknown,
  ): Promise<OperationRef> {
    const op = await api.request<{ name?: unknown }>(method, path, what, body);
    if (typeof op?.name !== 'string')
      throw new HubError('upstream_error', `${what}: GCE returned no operation`);
    return { name: op.name, zone };
  }

  /**
   * Instance calls through GCE's batch endpoint, up to its limit per request,
   * with the client's own credentials; each answer read as the single call's.
   */
  async function batch(
    calls: readonly InstanceCall[],
    verb: string,
    toRest: (call: InstanceCall) => RestCall,
  ): Promise<Settled<OperationRef>[]> {
    const what = (c: InstanceCall) => `${verb} ${c.name}`;
    const out: Settled<OperationRef>[] = [];
    for (let i = 0; i < calls.length; i += BATCH_LIMIT) {
      const chunk = calls.slice(i, i + BATCH_LIMIT);
      const { body, contentType } = encodeBatch(chunk.map(toRest));
      try {
        const res = await api.requestText(BATCH_PATH, body, contentType);
        const answers = decodeBatch(res.text, res.contentType, chunk.length);
        chunk.forEach((c, k) => {
          const { status, json } = answers[k]!;
          const name = (json as { name?: unknown } | null)?.name;
          out.push(
            status >= 200 && status < 300 && typeof name === 'string'
              ? { ok: true, value: { name, zone: c.zone } }
              : {
                  ok: false,
                  error:
                    status < 300
                      ? new HubError('upstream_error', `${what(c)}: GCE returned no operation`)
                      : restErrorToHub(status, json, what(c)),
                },
          );
        });
      } catch (err) {
        // The batch request itself failed: every call in it did.
        for (const c of chunk) out.push({ ok: false, error: requestFailure(err, what(c)) });
      }
    }
    return out;
  }

  const driver: ComputeDriver = {
    kind: 'gce',

    create: (spec, requestId) =>
      start(`insert ${spec.name}`, spec.zone, (c) =>
        c.insert({ project, zone: spec.zone, requestId, instanceResource: resourceFor(spec) }),
      ),

    async get(zone, name) {
      try {
        const path = `${zonePath(zone)}/instances/${encodeURIComponent(name)}`;
        return toState(await api.request<ComputeInstance>('GET', path, `get ${name}`), zone);
      } catch (err) {
        if (isHubError(err, 'not_found')) return null;
        throw err;
      }
    },

    async suspend(zone, name, requestId) {
      const call = { zone, name, requestId };
      const answer = await settle(
        restOperation('POST', instancePath(call, '/suspend'), `suspend ${name}`, zone),
      );
      return finishSuspend(call, answer);
    },

    async suspendMany(calls) {
      const answers = await batch(calls, 'suspend', (c) => ({
        method: 'POST',
        path: instancePath(c, '/suspend'),
      }));
      return settleEach(calls, 32, (call, i) => finishSuspend(call, answers[i]!));
    },

    async resume(zone, name, requestId) {
      const current = await driver.get(zone, name);
      if (!current) throw new HubError('not_found', `instance ${name} not found in ${zone}`);
      if (current.status === 'SUSPENDED' || current.status === 'SUSPENDING')
        return start(`resume ${name}`, zone, (c) =>
          c.resume({ project, zone, instance: name, requestId }),
        );
      return start(`start ${name}`, zone, (c) =>
        c.start({ project, zone, instance: name, requestId }),
      );
    },

    async delete(zone, name, requestId) {
      try {
        return await start(`delete ${name}`, zone, (c) =>
          c.delete({ project, zone, instance: name, requestId }),
        );
      } catch (err) {
        if (isHubError(err, 'not_found')) return null;
        throw err;
      }
    },

    async stopSuspended(zone, name, requestId) {
      const current = await driver.get(zone, name);
      if (!current) throw new HubError('not_found', `instance ${name} not found in ${zone}`);
      if (current.status === 'SUSPENDED' || current.status === 'SUSPENDING') {
        const resumed = await start(`resume ${name}`, zone, (c) =>
          c.resume({
            project,
            zone,
            instance: name,
            requestId: deterministicRequestId(requestId, 'resume-to-stop'),
          }),
        );
        // GCE stops a RUNNING instance with an ACPI shutdown: the guest flushes its disks.
        const state = await driver.waitOperation(resumed, RESUME_TO_STOP_WAIT_MS);
        if (state.error)
          throw new HubError('upstream_error', `resume ${name}: ${state.error.message}`);
      }
      const stop = { zone, name, requestId: deterministicRequestId(requestId, 'stop') };
      return restOperation('POST', instancePath(stop, '/stop'), `stop ${name}`, zone);
    },

    async deleteMany(calls) {
      const answers = await batch(calls, 'delete', (c) => ({
        method: 'DELETE',
        path: instancePath(c),
      }));
      return answers.map((a) =>
        !a.ok && isHubError(a.error, 'not_found') ? { ok: true, value: null } : a,
      );
    },

    async quarantine(zone, name, requestId) {
      const path = `${zonePath(zone)}/instances/${encodeURIComponent(name)}`;
      let inst: ComputeInstance;
      try {
        inst = await api.request<ComputeInstance>('GET', path, `get ${name}`);
      } catch (err) {
        if (isHubError(err, 'not_found')) return;
        throw err;
      }
      const call = (step: string) => ({
        zone,
        name,
        requestId: deterministicRequestId(requestId, step),
      });
      if (inst.labels?.[QUARANTINE_LABEL] !== 'true')
        // setLabels replaces the map, from the fingerprint of the labels just read.
        await restOperation(
          'POST',
          instancePath(call('label'), '/setLabels'),
          `setLabels ${name}`,
          zone,
          {
            labels: { ...(inst.labels ?? {}), [QUARANTINE_LABEL]: 'true' },
            labelFingerprint: inst.labelFingerprint,
          },
        );
      // Stop, not delete: the disks stay. A suspended instance already costs no
      // CPU, and stopping it would discard the memory it kept.
      if (['PROVISIONING', 'STAGING', 'RUNNING', 'REPAIRING'].includes(String(inst.status)))
        await restOperation('POST', instancePath(call('stop'), '/stop'), `stop ${name}`, zone);
    },

    async getOperation(op) {
      const path = `${zonePath(op.zone)}/operations/${encodeURIComponent(op.name)}`;
      return operationState(await api.request('GET', path, `operation ${op.name}`));
    },

    async waitOperation(op, timeoutMs) {
      const { operations } = await load();
      const deadline = Date.now() + timeoutMs;
      const request = { project, zone: op.zone, operation: op.name };
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) return driver.getOperation(op);
        try {
          // GCE's wait returns after at most ~2 minutes, DONE or not; our deadline may be sooner.
          const [o] = await operations.wait(request, { timeout: left, retry: null });
          const state = operationState(o);
          if (state.done) return state;
        } catch (err) {
          const e = toHubError(err, `operation ${op.name}`);
          // The client gave up at our deadline: not an error, just not done yet.
          if (!isDeadlineExceeded(err)) throw e;
        }
      }
    },

    async list(zones, labels) {
      const filter = Object.entries(labels)
        .map(([k, v]) => `labels.${k} = "${v}"`)
        .join(' AND ');
      const out: InstanceState[] = [];
      for (const zone of zones) {
        let pageToken = '';
        do {
          const query = new URLSearchParams({ maxResults: '500', fields: LIST_FIELDS });
          if (filter) query.set('filter', filter);
          if (pageToken) query.set('pageToken', pageToken);
          const page = await api.request<{ items?: ComputeInstance[]; nextPageToken?: string }>(
            'GET',
            `${zonePath(zone)}/instances?${query}`,
            `list instances in ${zone}`,
          );
          out.push(...(page.items ?? []).map((i) => toState(i, zone)));
          pageToken = page.nextPageToken ?? '';
        } while (pageToken);
      }
      return out;
    },

    async close() {
      if (!clients) return;
      const c = await clients;
      await Promise.all([c.instances.close(), c.operations.close()]);
    },
  };
  return driver;
}

function isDeadlineExceeded(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 4;
}

function operationState(o: {
  status?: unknown;
  error?: { errors?: Array<{ code?: string | null; message?: string | null }> | null } | null;
}): OperationState {
  const first = o.error?.errors?.[0];
  return {
    done: String(o.status) === 'DONE',
    error: first
      ? { code: first.code ?? 'UNKNOWN', message: first.message ?? 'operation failed' }
      : null,
  };
}
