import { type ErrorCode, HubError, type Problem } from '@workspace-hub/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/** The HTTP status of each of the API's stable error codes: the hub's business, not core's. */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  workspace_not_ready: 409,
  precondition_failed: 412,
  quota_exceeded: 429,
  upstream_unavailable: 503,
  upstream_error: 502,
  agent_unreachable: 502,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

const TITLES: Record<ErrorCode, string> = {
  invalid_argument: 'Invalid request',
  unauthenticated: 'Not signed in',
  permission_denied: 'Not allowed',
  not_found: 'Not found',
  conflict: 'Conflict with the current state',
  workspace_not_ready: 'The workspace is not ready',
  precondition_failed: 'Precondition failed',
  quota_exceeded: 'Quota exceeded',
  upstream_unavailable: 'A Google Cloud service is unavailable; try again shortly',
  upstream_error: 'Compute Engine error',
  agent_unreachable: 'The workspace agent cannot be reached',
  internal: 'Internal error',
};

const REFUSAL_TITLES = {
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
} as const;
const REFUSAL_STATUS = { payload_too_large: 413, unsupported_media_type: 415 } as const;

/**
 * A refusal of the HTTP request itself (its size, its media type) before
 * anything it asks is looked at: the hub's own, so its status lives here,
 * not among the domain's error codes.
 */
export class RequestRefused extends Error {
  constructor(
    readonly code: keyof typeof REFUSAL_STATUS,
    message: string,
    readonly field: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RequestRefused';
  }

  get status(): number {
    return REFUSAL_STATUS[this.code];
  }
}

export function problemOf(err: HubError | RequestRefused): Problem {
  if (err instanceof RequestRefused)
    return {
      type: `https://workspace-hub.dev/problems/${err.code}`,
      title: REFUSAL_TITLES[err.code],
      status: err.status,
      detail: err.message,
      code: err.code,
      field: err.field,
    };
  const p: Problem = {
    type: `https://workspace-hub.dev/problems/${err.code}`,
    title: TITLES[err.code],
    status: ERROR_STATUS[err.code],
    detail: err.message,
    code: err.code,
  };
  if (typeof err.extra.field === 'string') p.field = err.extra.field;
  if (typeof err.extra.current_status === 'string')
    p.current_status = err.extra.current_status as Problem['current_status'];
  return p;
}

/** What a 503 tells clients to wait before trying again (RFC 9110 Retry-After, seconds). */
export const RETRY_AFTER_SECONDS = 5;

function problemHeaders(problem: Problem): Record<string, string> {
  return {
    'content-type': 'application/problem+json',
    ...(problem.status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
  };
}

export function problemResponse(c: Context, err: HubError | RequestRefused): Response {
  const problem = problemOf(err);
  return c.body(
    JSON.stringify(problem),
    problem.status as ContentfulStatusCode,
    problemHeaders(problem),
  );
}

/** The same answer outside a route (the server's guard, before the app has loaded). */
export function problemFetchResponse(err: HubError | RequestRefused): Response {
  const problem = problemOf(err);
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: problemHeaders(problem),
  });
}

/**
 * gRPC codes the Firestore client ends a call with once its own retries of an
 * unreachable Firestore ran out: DEADLINE_EXCEEDED (4) and UNAVAILABLE (14).
 */
const FIRESTORE_UNREACHABLE_CODES = new Set([4, 14]);

/** Whether `err` is the Firestore client's way of saying Firestore cannot be reached. */
export function isFirestoreUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && FIRESTORE_UNREACHABLE_CODES.has(code);
}

export const firestoreUnavailable = () =>
  new HubError('upstream_unavailable', 'Firestore cannot be reached; try again shortly');

/** A zod failure on request input, as a 400 that names the first offending field. */
export function validationError(error: z.ZodError, where: string): HubError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0]].join('.');
    return new HubError('invalid_argument', `${field}: unknown field`, { field });
  }
  const field = path.join('.') || where;
  return new HubError('invalid_argument', `${field}: ${issue.message}`, { field });
}
