import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Client } from 'google-auth-library';
import {
  BATCH_PATH,
  type FakeRequest,
  type FakeResponse,
  formatBatch,
  innerContentTypeProblem,
  parseBatch,
} from './batch.js';
import { listPage, parseInstanceListFields, selectFields } from './list-page.js';
import {
  ApiError,
  ComputeModel,
  type FakeInstance,
  type FakeMethod,
  type FakeOperation,
  type FakeStatus,
  labelFingerprint,
} from './model.js';
import { checkInsert, checkLabels, type InsertBody, UUID } from './validate.js';

export interface FakeCall {
  /** `batch` is the envelope of a batch request (`body: {parts}`); its inner calls follow it. */
  method: FakeMethod | 'get' | 'list' | 'operation.get' | 'operation.wait' | 'batch';
  zone: string;
  instance: string | null;
  requestId: string | null;
  body: unknown;
}

export interface ComputeFake {
  endpoint: string;
  port: number;
  project: string;
  /** Every request, in order; tests count GCE calls with it. */
  calls: FakeCall[];
  /** A google-auth-library client with a fixed token: what the real Compute client is given. */
  authClient: OAuth2Client;
  instance(name: string): FakeInstance | undefined;
  waitForStatus(name: string, status: FakeStatus, timeoutMs?: number): Promise<void>;
  /** Waits until no operation on the instance is unfinished. */
  waitForSettled(name: string, timeoutMs?: number): Promise<void>;
  waitForGone(name: string, timeoutMs?: number): Promise<void>;
  /** The next operation of this method ends DONE with this error. */
  failNextOperation(method: FakeMethod, error: { code: string; message: string }): void;
  /** The next request of this method is refused with this HTTP error. */
  rejectNext(method: FakeMethod, httpStatus: number, reason: string, message: string): void;
  /** GCE's refusal to suspend (GPUs, > 60 days running) for this instance. */
  refuseSuspend(name: string, message: string): void;
  /** An out-of-band change (someone used the console, a preemption). */
  setStatus(name: string, status: FakeStatus, statusMessage?: string): void;
  removeInstance(name: string): void;
  close(): Promise<void>;
}

const BASE =
  /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/(instances|operations)(?:\/([^/]+))?(?:\/([^/]+))?$/;

function send(res: ServerResponse, { status, body }: FakeResponse) {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

const ERROR_INFO: Record<string, string> = {
  quotaExceeded: 'QUOTA_EXCEEDED',
  rateLimitExceeded: 'RATE_LIMIT_EXCEEDED',
};

/** GCE's error JSON; anything but an ApiError is the fake's own bug, answered as GCE's 500. */
function errorResponse(thrown: unknown): FakeResponse {
  const err =
    thrown instanceof ApiError ? thrown : new ApiError(500, 'backendError', String(thrown));
  return {
    status: err.httpStatus,
    body: {
      error: {
        code: err.httpStatus,
        message: err.message,
        errors: [{ message: err.message, domain: 'global', reason: err.reason }],
        // Compute's own reason is in errors[]; only some errors (quota, rate
        // limits) also carry an ErrorInfo, the one reason the client library reads.
        ...(ERROR_INFO[err.reason]
          ? {
              details: [
                {
                  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                  reason: ERROR_INFO[err.reason],
                  domain: 'compute.googleapis.com',
                },
              ],
            }
          : {}),
      },
    },
  };
}

function operationResource(op: FakeOperation, base: string) {
  return {
    kind: 'compute#operation',
    id: op.name.replace(/\D/g, '').slice(-18),
    name: op.name,
    zone: `${base}/compute/v1/projects/${op.project}/zones/${op.zone}`,
    operationType: op.operationType,
    targetLink: `${base}/compute/v1/projects/${op.project}/zones/${op.zone}/instances/${op.targetName}`,
    status: op.status,
    progress: op.status === 'DONE' ? 100 : 0,
    insertTime: op.insertTime,
    ...(op.endTime ? { endTime: op.endTime } : {}),
    ...(op.error ? { error: { errors: [op.error] }, httpErrorStatusCode: 400 } : {}),
    selfLink: `${base}/compute/v1/projects/${op.project}/zones/${op.zone}/operations/${op.name}`,
  };
}

function instanceResource(inst: FakeInstance, base: string) {
  return {
    kind: 'compute#instance',
    ...inst.resource,
    ...withInternalIps(inst),
    id: inst.id,
    name: inst.name,
    status: inst.status,
    ...(inst.statusMessage ? { statusMessage: inst.statusMessage } : {}),
    zone: `${base}/compute/v1/projects/${inst.project}/zones/${inst.zone}`,
    labels: inst.labels,
    labelFingerprint: labelFingerprint(inst.labels),
    creationTimestamp: inst.creationTimestamp,
    selfLink: `${base}/compute/v1/projects/${inst.project}/zones/${inst.zone}/instances/${inst.name}`,
  };
}

/** The interfaces as GCE answers them: named `nic0`, `nic1`… with their internal IP. */
function withInternalIps(inst: FakeInstance) {
  const nics = inst.resource.networkInterfaces;
  if (!Array.isArray(nics)) return {};
  return {
    networkInterfaces: nics.map((nic: Record<string, unknown>, i) => ({
      ...nic,
      name: `nic${i}`,
      networkIP: inst.internalIps[i],
    })),
  };
}

/** `labels.k = "v" AND labels.k2 = "v2"` (the subset of GCE's filter syntax the driver sends). */
function matchesFilter(inst: FakeInstance, filter: string | null): boolean {
  if (!filter) return true;
  for (const clause of filter.split(/\s+AND\s+/i)) {
    const m = clause.trim().match(/^\(?labels\.([a-z0-9_-]+)\s*=\s*"?([^")]*)"?\)?$/);
    if (!m) throw new ApiError(400, 'invalid', `Invalid value for field 'filter': '${filter}'`);
    if (inst.labels[m[1]!] !== m[2]) return false;
  }
  return true;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'parseError', 'Invalid JSON payload received.');
  }
}

async function until(check: () => boolean, what: string | (() => string), timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end)
      throw new Error(
        `compute fake: timed out waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An HTTP fake of the Compute Engine v1 REST API, as the real
 * `@google-cloud/compute` client speaks it with `fallback: true`. It checks
 * what it receives (GCE-shaped 400s), moves instances through realistic
 * statuses, de-duplicates by requestId, and lets tests inject failures.
 */
export async function startComputeFake(
  opts: {
    project?: string;
    stepMs?: number;
    waitLimitMs?: number;
    /** At most this many instances per list page (GCE may return fewer than asked for). */
    listPageLimit?: number;
  } = {},
): Promise<ComputeFake> {
  const listPageLimit = opts.listPageLimit ?? 500;
  const project = opts.project ?? 'fake-project';
  const model = new ComputeModel(opts.stepMs ?? 25);
  const waitLimitMs = opts.waitLimitMs ?? 2000;
  const calls: FakeCall[] = [];
  const rejections = new Map<FakeMethod, ApiError>();
  let base = '';

  /** One Compute call, alone or from a batch: its 200 body, or a thrown ApiError. */
  const route = async (req: FakeRequest): Promise<unknown> => {
    const url = new URL(req.path, 'http://fake');
    const m = url.pathname.match(BASE);
    if (!m) throw new ApiError(404, 'notFound', `no such path ${url.pathname}`);
    if (!/^Bearer \S+$/.test(req.authorization ?? ''))
      throw new ApiError(401, 'required', 'Request is missing required authentication credential.');
    const [, proj, zone, kind, name, verb] = m as unknown as [
      string,
      string,
      string,
      string,
      string?,
      string?,
    ];
    if (proj !== project)
      throw new ApiError(404, 'notFound', `The resource 'projects/${proj}' was not found`);
    const requestId = url.searchParams.get('requestId');
    const body = parseJson(req.body);

    if (kind === 'operations') {
      if (!name) throw new ApiError(404, 'notFound', 'no operation');
      const waiting = verb === 'wait';
      calls.push({
        method: waiting ? 'operation.wait' : 'operation.get',
        zone,
        instance: null,
        requestId: null,
        body,
      });
      const op = model.operations.get(name);
      if (!op || op.zone !== zone)
        throw new ApiError(
          404,
          'notFound',
          `The resource 'zones/${zone}/operations/${name}' was not found`,
        );
      if (waiting)
        await until(() => op.status === 'DONE', 'operation', waitLimitMs).catch(() => {});
      return operationResource(op, base);
    }

    const fields = url.searchParams.get('fields');
    if (req.method === 'GET' && !name) {
      const query = Object.fromEntries(url.searchParams);
      calls.push({ method: 'list', zone, instance: null, requestId: null, body: query });
      const selection = fields === null ? null : parseInstanceListFields(fields);
      const matching = [...model.instances.values()].filter(
        (i) => i.zone === zone && matchesFilter(i, url.searchParams.get('filter')),
      );
      const page = listPage(matching, url.searchParams, listPageLimit);
      const list = {
        kind: 'compute#instanceList',
        items: page.items.map((i) => instanceResource(i, base)),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      };
      return selection ? selectFields(list, selection) : list;
    }
    if (fields !== null)
      throw new ApiError(400, 'invalidParameter', 'the fake honours `fields` on list calls only');

    if (req.method === 'GET' && name) {
      calls.push({ method: 'get', zone, instance: name, requestId: null, body });
      return instanceResource(model.find(zone, name), base);
    }

    const method: FakeMethod | undefined =
      req.method === 'POST' && !name
        ? 'insert'
        : req.method === 'DELETE' && name && !verb
          ? 'delete'
          : (verb as FakeMethod);
    const methods = ['insert', 'delete', 'start', 'stop', 'suspend', 'resume', 'setLabels'];
    if (!method || !methods.includes(method))
      throw new ApiError(400, 'badRequest', `unsupported ${req.method} ${url.pathname}`);
    const target = method === 'insert' ? String((body as { name?: unknown })?.name ?? '') : name!;
    calls.push({ method, zone, instance: target, requestId, body });
    if (requestId !== null && !UUID.test(requestId))
      throw new ApiError(
        400,
        'invalid',
        `Invalid value for field 'requestId': '${requestId}'. Must be a UUID.`,
      );
    const rejection = rejections.get(method);
    if (rejection) {
      rejections.delete(method);
      throw rejection;
    }
    if (method === 'insert') {
      const problem = checkInsert(body as InsertBody, zone);
      if (problem) throw new ApiError(400, 'invalid', problem);
    } else if (method === 'setLabels') {
      const problem = checkLabels((body as { labels?: unknown } | undefined)?.labels, 'labels');
      if (problem) throw new ApiError(400, 'invalid', problem);
    } else if (body !== undefined && body !== '' && JSON.stringify(body) !== '{}') {
      throw new ApiError(400, 'invalid', `${method} takes no body`);
    }
    const op = model.call(
      project,
      zone,
      method,
      target,
      requestId ?? undefined,
      body as Record<string, unknown>,
    );
    return operationResource(op, base);
  };

  const answer = (req: FakeRequest): Promise<FakeResponse> =>
    route(req).then((body) => ({ status: 200, body }), errorResponse);

  /** A malformed batch is refused whole (ApiError); each well-formed part gets its own answer. */
  const answerBatch = async (req: IncomingMessage, text: string, res: ServerResponse) => {
    const parts = parseBatch(req.headers['content-type'], text, req.headers.authorization);
    calls.push({
      method: 'batch',
      zone: '',
      instance: null,
      requestId: null,
      body: { parts: parts.length },
    });
    // Each answer records its call before its first await, so `calls` keeps request order.
    const responses = await Promise.all(
      parts.map((p) => {
        const problem = innerContentTypeProblem(p.request);
        return problem
          ? errorResponse(new ApiError(400, 'badRequest', problem))
          : answer(p.request);
      }),
    );
    const reply = formatBatch(parts, responses);
    res.writeHead(200, { 'content-type': reply.contentType });
    res.end(reply.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readText(req);
    const path = req.url ?? '/';
    if (req.method === 'POST' && new URL(path, 'http://fake').pathname === BATCH_PATH)
      return answerBatch(req, text, res);
    const method = req.method ?? 'GET';
    send(res, await answer({ method, path, authorization: req.headers.authorization, body: text }));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, errorResponse(err)));
  });
  // Google's front ends keep idle connections for minutes. Node's 5 s default
  // races the client's reuse of a pooled socket (ECONNRESET) whenever a busy
  // machine stalls the event loop the fake shares with the test.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  const authClient = new OAuth2Client();
  authClient.setCredentials({
    access_token: 'compute-fake-token',
    expiry_date: Date.now() + 24 * 3600_000,
  });
  const findByName = (name: string) => [...model.instances.values()].find((i) => i.name === name);

  return {
    endpoint: base,
    port,
    project,
    calls,
    authClient,
    instance: findByName,
    waitForStatus: (name, status, timeoutMs = 5000) =>
      until(
        () => findByName(name)?.status === status,
        () => `${name} to be ${status} (it is ${findByName(name)?.status ?? 'gone'})`,
        timeoutMs,
      ),
    waitForSettled: (name, timeoutMs = 5000) =>
      until(() => !model.busy(name), `${name} to settle`, timeoutMs),
    waitForGone: (name, timeoutMs = 5000) =>
      until(() => !findByName(name), `${name} to be deleted`, timeoutMs),
    failNextOperation: (method, error) => model.failNextOperation(method, error),
    rejectNext: (method, httpStatus, reason, message) =>
      rejections.set(method, new ApiError(httpStatus, reason, message)),
    refuseSuspend: (name, message) => model.refusedSuspend.set(name, message),
    setStatus(name, status, statusMessage) {
      const inst = findByName(name);
      if (!inst) throw new Error(`compute fake: no instance ${name}`);
      inst.status = status;
      inst.statusMessage = statusMessage;
    },
    removeInstance(name) {
      const inst = findByName(name);
      if (inst) model.instances.delete(`${inst.zone}/${inst.name}`);
    },
    async close() {
      model.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
