import { randomUUID } from 'node:crypto';
import {
  type CreateWorkspaceBody,
  DEVICE_ID_HEADER,
  EventList,
  Health,
  Me,
  SshKey,
  SyncBlob,
  type UpdateWorkspaceBody,
  Workspace,
  WorkspaceList,
  type WorkspaceStatus,
  WorkspaceStatusReport,
} from '@workspace-hub/api';
import { z } from 'zod';
import type { TokenProvider } from './auth.js';
import { HubApiError } from './errors.js';
import { type HttpAnswer, type HttpTransport, nodeHttp } from './http.js';

// The resources' schemas live in the api package, shared with the hub that serves them.
export { SshKey, SyncBlob } from '@workspace-hub/api';

export interface HubClientOptions {
  /** The hub's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  token: TokenProvider;
  /** How requests are sent (default: Node's http/https). */
  transport?: HttpTransport;
  /** This device's id: sent with start, stop and delete, so their events name the device. */
  deviceId?: string;
}

export interface ListOptions {
  limit?: number;
  pageToken?: string;
  status?: WorkspaceStatus;
  scope?: 'mine' | 'all';
}

/** A typed client for every hub route; answers are validated with the api package's zod schemas. */
export class HubClient {
  readonly url: string;
  private readonly token: TokenProvider;
  private readonly transport: HttpTransport;
  private readonly deviceHeaders: Record<string, string>;

  constructor(opts: HubClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.transport = opts.transport ?? nodeHttp;
    this.deviceHeaders = opts.deviceId ? { [DEVICE_ID_HEADER]: opts.deviceId } : {};
  }

  private async request(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      headers?: Record<string, string>;
      query?: Record<string, string | undefined>;
    } = {},
  ): Promise<HttpAnswer> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      authorization: `Bearer ${await this.token()}`,
      accept: 'application/json',
      ...opts.headers,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: HttpAnswer;
    try {
      res = await this.transport(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (err) {
      const { code, message } = err as { code?: string; message: string };
      const cause = code ?? message;
      throw new HubApiError({
        type: 'about:blank',
        title: 'Hub unreachable',
        status: 0,
        detail: `cannot reach the hub at ${this.url} (${cause})`,
        code: 'unreachable',
      });
    }
    if (!res.ok) throw await HubApiError.fromResponse(res);
    return res;
  }

  private async parse<T>(schema: z.ZodType<T>, res: HttpAnswer): Promise<T> {
    return schema.parse(JSON.parse(await res.text()));
  }

  private ws(id: string, suffix = ''): string {
    return `/workspaces/${encodeURIComponent(id)}${suffix}`;
  }

  async listWorkspaces(opts: ListOptions = {}): Promise<WorkspaceList> {
    const res = await this.request('GET', '/workspaces', {
      query: {
        limit: opts.limit?.toString(),
        page_token: opts.pageToken,
        status: opts.status,
        scope: opts.scope,
      },
    });
    return this.parse(WorkspaceList, res);
  }

  /** Every workspace, page after page. */
  async *allWorkspaces(opts: Omit<ListOptions, 'pageToken'> = {}): AsyncGenerator<Workspace> {
    let pageToken: string | undefined;
    do {
      const page = await this.listWorkspaces({ ...opts, pageToken });
      yield* page.workspaces;
      pageToken = page.next_page_token ?? undefined;
    } while (pageToken);
  }

  /** Creates a workspace; the Idempotency-Key (generated unless given) makes a retry return the first result. */
  async createWorkspace(
    body: CreateWorkspaceBody = {},
    opts: { idempotencyKey?: string } = {},
  ): Promise<Workspace> {
    const key = opts.idempotencyKey ?? randomUUID();
    const send = () =>
      this.request('POST', '/workspaces', { body, headers: { 'idempotency-key': key } });
    let res: HttpAnswer;
    try {
      res = await send();
    } catch (err) {
      // A lost answer (network or 5xx) is retried once with the same key: the hub replays the first result.
      if (err instanceof HubApiError && (err.status === 0 || err.status >= 500)) res = await send();
      else throw err;
    }
    return this.parse(Workspace, res);
  }

  async getWorkspace(id: string): Promise<Workspace> {
    return this.parse(Workspace, await this.request('GET', this.ws(id)));
  }

  async deleteWorkspace(id: string): Promise<Workspace> {
    const headers = this.deviceHeaders;
    return this.parse(Workspace, await this.request('DELETE', this.ws(id), { headers }));
  }

  /** Renames the workspace (`id` may be its id or current name); its id stays. */
  async renameWorkspace(id: string, name: string): Promise<Workspace> {
    return this.parse(
      Workspace,
      await this.request('PATCH', this.ws(id), { body: { name } satisfies UpdateWorkspaceBody }),
    );
  }

  async startWorkspace(id: string): Promise<Workspace> {
    const headers = this.deviceHeaders;
    return this.parse(Workspace, await this.request('POST', this.ws(id, '/start'), { headers }));
  }

  async stopWorkspace(id: string): Promise<Workspace> {
    const headers = this.deviceHeaders;
    return this.parse(Workspace, await this.request('POST', this.ws(id, '/stop'), { headers }));
  }

  /** A page of the workspace's events, newest first. */
  async listEvents(
    id: string,
    opts: { limit?: number; pageToken?: string } = {},
  ): Promise<EventList> {
    const res = await this.request('GET', this.ws(id, '/events'), {
      query: { limit: opts.limit?.toString(), page_token: opts.pageToken },
    });
    return this.parse(EventList, res);
  }

  async workspaceStatus(id: string): Promise<WorkspaceStatusReport> {
    return this.parse(WorkspaceStatusReport, await this.request('GET', this.ws(id, '/status')));
  }

  async connect(id: string, deviceId: string): Promise<Workspace> {
    return this.parse(
      Workspace,
      await this.request('POST', this.ws(id, '/connect'), { body: { device_id: deviceId } }),
    );
  }

  async extend(id: string, minutes: number): Promise<Workspace> {
    return this.parse(
      Workspace,
      await this.request('POST', this.ws(id, '/extend'), { body: { minutes } }),
    );
  }

  /** `GET /health`: the hub's version. */
  async health(): Promise<Health> {
    return this.parse(Health, await this.request('GET', '/health'));
  }

  /** `GET /me`: who the hub takes you for, and whether you are an admin. */
  async me(): Promise<Me> {
    return this.parse(Me, await this.request('GET', '/me'));
  }

  async listKeys(): Promise<SshKey[]> {
    const res = await this.request('GET', '/me/keys');
    return (await this.parse(z.object({ keys: z.array(SshKey) }), res)).keys;
  }

  /** The key named `name`, or null when there is none. */
  async getKey(name: string): Promise<SshKey | null> {
    try {
      return await this.parse(
        SshKey,
        await this.request('GET', `/me/keys/${encodeURIComponent(name)}`),
      );
    } catch (err) {
      if (err instanceof HubApiError && err.status === 404) return null;
      throw err;
    }
  }

  async putKey(name: string, publicKey: string): Promise<SshKey> {
    const res = await this.request('PUT', `/me/keys/${encodeURIComponent(name)}`, {
      body: { public_key: publicKey },
    });
    return this.parse(SshKey, res);
  }

  async deleteKey(name: string): Promise<void> {
    await this.request('DELETE', `/me/keys/${encodeURIComponent(name)}`);
  }

  /** The blob named `name`, or null when nothing is synced under it. */
  async getSync(name: string): Promise<SyncBlob | null> {
    try {
      return await this.parse(
        SyncBlob,
        await this.request('GET', `/me/sync/${encodeURIComponent(name)}`),
      );
    } catch (err) {
      if (err instanceof HubApiError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * Writes a blob. `ifMatch` is the ETag last read (a stale one is a 412
   * `HubApiError` naming the device that changed it); omit it only to create.
   */
  async putSync(
    name: string,
    content: string,
    opts: { ifMatch?: string; deviceId?: string } = {},
  ): Promise<SyncBlob> {
    const res = await this.request('PUT', `/me/sync/${encodeURIComponent(name)}`, {
      body: { content, ...(opts.deviceId ? { device_id: opts.deviceId } : {}) },
      headers: opts.ifMatch ? { 'if-match': opts.ifMatch } : {},
    });
    return this.parse(SyncBlob, res);
  }
}
