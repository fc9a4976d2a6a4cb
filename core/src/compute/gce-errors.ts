import { type ErrorCode, HubError } from '../errors.js';

const BY_HTTP: Record<number, ErrorCode> = {
  400: 'invalid_argument',
  401: 'permission_denied',
  403: 'permission_denied',
  404: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  429: 'quota_exceeded',
};

// gRPC codes, which gax uses for REST errors too.
const BY_GRPC: Record<number, ErrorCode> = {
  3: 'invalid_argument',
  5: 'not_found',
  6: 'conflict',
  7: 'permission_denied',
  8: 'quota_exceeded',
  9: 'invalid_argument',
  16: 'permission_denied',
};

interface GaxLikeError {
  code?: number;
  httpStatusCode?: number;
  message?: string;
  reason?: string;
}

/** Where google-gax keeps the error body it received (it keeps only ErrorInfo's reason). */
const RAW_BODY = Symbol.for('google-gax.rawHttpResponsePayload');

/**
 * Compute's own `errors[].reason` from the body the client library received:
 * many GCE errors carry no ErrorInfo, and the library reads only that.
 */
function computeReason(err: object): string | undefined {
  const raw = (err as Record<symbol, unknown>)[RAW_BODY];
  if (typeof raw !== 'string') return undefined;
  try {
    return (JSON.parse(raw) as RestErrorBody).error?.errors?.[0]?.reason;
  } catch {
    return undefined;
  }
}

/** The Compute client's errors as ours, keeping GCE's message (it tells the user what to fix). */
export function toHubError(err: unknown, what: string): HubError {
  if (err instanceof HubError) return err;
  const e = (err ?? {}) as GaxLikeError;
  const reason = e.reason ?? (typeof err === 'object' && err ? computeReason(err) : undefined);
  const http = e.httpStatusCode;
  // GCE reports quota and rate limits as 403s; only the reason (or the message) tells them apart.
  const quota =
    /quota|rate_?limit/i.test(reason ?? '') || /\bquota\b.*\bexceeded\b/i.test(e.message ?? '');
  const code: ErrorCode =
    (quota ? 'quota_exceeded' : undefined) ??
    (http !== undefined ? BY_HTTP[http] : undefined) ??
    (typeof e.code === 'number' ? BY_GRPC[e.code] : undefined) ??
    ((http ?? 0) >= 500 || e.code === 14 || e.code === 4
      ? 'upstream_unavailable'
      : 'upstream_error');
  const message = (e.message ?? String(err)).split('\n')[0]!;
  return new HubError(code, `${what}: ${message}`, { reason });
}

const REFUSAL_TEXT = /(do|does) not support suspend|(cannot|can't|can not) be suspended/i;

/**
 * GCE's answer when an instance cannot be suspended (GPUs, local SSDs, running > 60 days…),
 * either as the request's error or as its operation's.
 */
export function isSuspendRefusal(err: HubError | { code: string; message: string }): boolean {
  if (err instanceof HubError)
    return (
      err.code === 'invalid_argument' &&
      (/unsupported_?operation/i.test(String(err.extra.reason ?? '')) ||
        REFUSAL_TEXT.test(err.message))
    );
  return /unsupported_?operation/i.test(err.code) || REFUSAL_TEXT.test(err.message);
}

interface RestErrorBody {
  error?: {
    message?: string;
    errors?: Array<{ reason?: string }>;
    details?: Array<{ '@type'?: string; reason?: string }>;
  };
}

/** A REST answer's error (a batch part's, say) as ours, read as the client library reads it. */
export function restErrorToHub(status: number, json: unknown, what: string): HubError {
  const error = (json as RestErrorBody | null)?.error ?? {};
  const info = error.details?.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'));
  return toHubError(
    {
      httpStatusCode: status,
      message: error.message ?? `HTTP ${status}`,
      reason: info?.reason ?? error.errors?.[0]?.reason,
    },
    what,
  );
}
