import type { ErrorCode } from '@workspace-hub/api';

export type { ErrorCode } from '@workspace-hub/api';

/**
 * The HTTP status of each of the API's stable error codes. Drivers and the store throw
 * `HubError` so callers never parse vendor messages.
 */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  quota_exceeded: 429,
  upstream_unavailable: 503,
  upstream_error: 502,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

export class HubError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HubError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isHubError(err: unknown, code?: ErrorCode): err is HubError {
  return err instanceof HubError && (code === undefined || err.code === code);
}
