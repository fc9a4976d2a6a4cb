import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import { HubError } from '../errors.js';
import { parseAnswerBody } from './gce-batch.js';
import { restErrorToHub } from './gce-errors.js';

/**
 * Compute REST calls made without `@google-cloud/compute`: reads (an instance,
 * an operation, a list) and the calls the cleanup sweep batches. Loading the
 * client library costs seconds and ~100 MB (its protobuf descriptors), and its
 * JSON-to-protobuf conversion costs more CPU than the call; the reconcile
 * function only ever reads, so it never loads the library at all.
 */
export interface ComputeRest {
  /** The credentials, for the client library where it is still used. */
  readonly authClient: OAuth2Client | undefined;
  request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    what: string,
    body?: unknown,
  ): Promise<T>;
  /** A raw request (the batch endpoint): body and content type as given, the answer as text. */
  requestText(
    path: string,
    body: string,
    contentType: string,
  ): Promise<{ text: string; contentType: string }>;
}

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** A plain-http endpoint is a local fake: never send real credentials to it. */
export function fakeEndpointAuth(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({
    access_token: 'local-fake',
    expiry_date: Date.now() + 10 * 365 * 86_400_000,
  });
  return client;
}

export function computeRest(opts: { endpoint?: string; authClient?: OAuth2Client }): ComputeRest {
  const base = (opts.endpoint ?? 'https://compute.googleapis.com').replace(/\/$/, '');
  const authClient =
    opts.authClient ?? (opts.endpoint?.startsWith('http:') ? fakeEndpointAuth() : undefined);
  let adc: GoogleAuth | undefined;
  const auth = () => {
    if (authClient) return authClient;
    adc ??= new GoogleAuth({ scopes: [SCOPE] });
    return adc;
  };
  return {
    authClient,
    async request<T>(method: string, path: string, what: string, body?: unknown) {
      try {
        const res = await auth().request<T>({
          url: base + path,
          method: method as 'GET',
          responseType: 'json',
          ...(body === undefined ? {} : { data: body }),
        });
        return res.data;
      } catch (err) {
        throw requestFailure(err, what);
      }
    },
    async requestText(path, body, contentType) {
      const res = await auth().request<string>({
        url: base + path,
        method: 'POST',
        headers: { 'Content-Type': contentType },
        data: body,
        responseType: 'text',
      });
      return { text: res.data, contentType: res.headers.get('content-type') ?? '' };
    },
  };
}

/** A REST request of ours that failed, read as GCE's error (`errors[].reason` included). */
export function requestFailure(err: unknown, what: string): HubError {
  const res = (err as { response?: { status?: number; data?: unknown } }).response;
  return res?.status
    ? restErrorToHub(res.status, parseAnswerBody(res.data), what)
    : new HubError(
        'upstream_unavailable',
        `${what}: ${err instanceof Error ? err.message : String(err)}`,
      );
}
