/** An HTTP answer other than 2xx; the message names the call and the status, never a header. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what}: HTTP ${status}`);
    this.name = 'HttpStatusError';
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * The GCE metadata server (`host` is `GCE_METADATA_HOST`, a fake in tests):
 * every call carries `Metadata-Flavor: Google`, and tokens are kept only in memory.
 */
export class MetadataClient {
  private accessToken: { value: string; expiresAtMs: number } | null = null;
  private accessTokenInFlight: Promise<string> | null = null;

  constructor(
    private readonly host: string,
    private readonly signal: AbortSignal,
  ) {}

  /** `GET /computeMetadata/v1/<path>` as text; throws HttpStatusError on a non-2xx answer. */
  async get(path: string, params: Record<string, string> = {}): Promise<string> {
    const url = new URL(`http://${this.host}/computeMetadata/v1/${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url, {
      headers: { 'Metadata-Flavor': 'Google' },
      signal: AbortSignal.any([this.signal, AbortSignal.timeout(10_000)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new HttpStatusError(res.status, `metadata ${path}`);
    }
    return res.text();
  }

  /** The VM service account's OAuth access token, reused until a minute before it expires. */
  serviceAccountToken(): Promise<string> {
    if (this.accessToken && Date.now() < this.accessToken.expiresAtMs)
      return Promise.resolve(this.accessToken.value);
    // Concurrent callers share one request.
    this.accessTokenInFlight ??= this.fetchServiceAccountToken().finally(() => {
      this.accessTokenInFlight = null;
    });
    return this.accessTokenInFlight;
  }

  private async fetchServiceAccountToken(): Promise<string> {
    const path = 'instance/service-accounts/default/token';
    const text = await this.get(path);
    let body: { access_token?: unknown; expires_in?: unknown } | null;
    try {
      body = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the text, which holds the token.
      throw new Error(`metadata ${path}: not JSON`);
    }
    if (typeof body?.access_token !== 'string' || body.access_token === '')
      throw new Error(`metadata ${path}: no access_token`);
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 300;
    this.accessToken = {
      value: body.access_token,
      expiresAtMs: Date.now() + Math.max(0, lifetime - 60) * 1000,
    };
    return body.access_token;
  }

  /** Forgets the access token (after a 401), so the next call asks again. */
  dropServiceAccountToken(): void {
    this.accessToken = null;
  }

  /** The project the VM runs in. */
  async projectId(): Promise<string> {
    return (await this.get('project/project-id')).trim();
  }
}
