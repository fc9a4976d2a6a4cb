import type { ErrorCode } from '@workspace-hub/api';

export type { ErrorCode } from '@workspace-hub/api';

/** Drivers and the store throw `HubError` so callers never parse vendor messages. */
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
}

export function isHubError(err: unknown, code?: ErrorCode): err is HubError {
  return err instanceof HubError && (code === undefined || err.code === code);
}
