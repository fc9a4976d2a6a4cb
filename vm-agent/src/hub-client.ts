import {
  AgentAck,
  type AgentHeartbeatBody,
  type AgentReadyBody,
  type AuthorizedKeys,
} from '@workspace-hub/api';
import { log } from './log.js';
import { HttpStatusError, MetadataClient, sleep } from './metadata.js';

const KEY_LIST_TIMEOUT_MS = 5_000;

/** One key of the hub's `GET /agent/authorized-keys` answer. */
export type AuthorizedKeyEntry = AuthorizedKeys['keys'][number];

export interface HubClientOptions {
  hubUrl: string;
  workspaceId: string;
  /** Local mode: a fixed per-workspace token. Otherwise the GCE identity token is used. */
  agentToken: string | null;
  metadataHost: string;
}

/** The agent's calls to the hub. Failures are logged (never the token) and retried with backoff. */
export class HubClient {
  private cachedToken: { value: string; expiresAtMs: number } | null = null;
  private readonly closing = new AbortController();
  private readonly metadata: MetadataClient;

  constructor(private readonly opts: HubClientOptions) {
    this.metadata = new MetadataClient(opts.metadataHost, this.closing.signal);
  }

  close(): void {
    this.closing.abort();
  }

  async ready(report: AgentReadyBody, maxAttempts = Number.POSITIVE_INFINITY): Promise<boolean> {
    return (
      (await this.withRetry('ready', maxAttempts, () => this.post('/agent/ready', report))) !== null
    );
  }

  /** Returns whether the hub asked for a fresh ready report, or null if the heartbeat was lost. */
  async heartbeat(report: AgentHeartbeatBody): Promise<boolean | null> {
    const body = await this.withRetry('heartbeat', 4, () => this.post('/agent/heartbeat', report));
    if (body === null) return null;
    return AgentAck.safeParse(body).data?.report_ready === true;
  }

  /**
   * One attempt with a short timeout: an SSH login is waiting, and on failure
   * the agent keeps serving the keys it already has.
   */
  async authorizedKeys(): Promise<AuthorizedKeyEntry[] | null> {
    const body = await this.withRetry('authorized-keys', 1, () =>
      this.request('GET', '/agent/authorized-keys', undefined, KEY_LIST_TIMEOUT_MS),
    );
    if (body === null) return null;
    const keys = (body as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) {
      log('WARNING', 'hub answered authorized-keys without a keys array');
      return null;
    }
    return keys.filter(
      (k): k is AuthorizedKeyEntry =>
        typeof k === 'object' &&
        k !== null &&
        typeof k.public_key === 'string' &&
        typeof k.name === 'string',
    );
  }

  private post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 15_000,
  ): Promise<unknown> {
    const token = await this.token();
    const res = await fetch(`${this.opts.hubUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        // Cloud Run checks this header for run.invoker and forwards the token it checked with
        // its signature removed; Authorization then reaches the hub untouched, still verifiable.
        ...(this.opts.agentToken ? {} : { 'x-serverless-authorization': `Bearer ${token}` }),
        'x-workspace-id': this.opts.workspaceId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeoutMs)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status === 401 || res.status === 403) this.cachedToken = null;
      throw new HttpStatusError(res.status, `${method} ${path}`);
    }
    return res.json();
  }

  private async withRetry(
    what: string,
    maxAttempts: number,
    call: () => Promise<unknown>,
  ): Promise<unknown | null> {
    let delay = 500;
    for (let attempt = 1; !this.closing.signal.aborted; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (this.closing.signal.aborted) return null;
        const status = err instanceof HttpStatusError ? err.status : undefined;
        log(status === 401 || status === 403 ? 'ERROR' : 'WARNING', `hub ${what} failed`, {
          attempt,
          status,
          // Only our own message: a fetch error never carries the Authorization header.
          error: (err as Error).message,
        });
        if (attempt >= maxAttempts) return null;
        await sleep(delay, this.closing.signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    return null;
  }

  private async token(): Promise<string> {
    if (this.opts.agentToken) return this.opts.agentToken;
    if (this.cachedToken && Date.now() < this.cachedToken.expiresAtMs)
      return this.cachedToken.value;
    const value = (
      await this.metadata.get('instance/service-accounts/default/identity', {
        audience: this.opts.hubUrl,
        format: 'full',
      })
    ).trim();
    this.cachedToken = { value, expiresAtMs: tokenExpiry(value) - 5 * 60_000 };
    return value;
  }
}

/** The JWT's `exp` in ms (or a minute from now when it cannot be read). */
function tokenExpiry(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    if (typeof payload.exp === 'number') return payload.exp * 1000;
  } catch {
    // fall through
  }
  return Date.now() + 6 * 60_000;
}
