import { ERROR_STATUS, type ErrorCode, HubError, type Problem } from '@workspace-hub/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

const TITLES: Record<ErrorCode, string> = {
  invalid_argument: 'Invalid request',
  unauthenticated: 'Not signed in',
  permission_denied: 'Not allowed',
  not_found: 'Not found',
  conflict: 'Conflict with the current state',
  precondition_failed: 'Precondition failed',
  quota_exceeded: 'Quota exceeded',
  upstream_unavailable: 'Compute Engine is unavailable',
  upstream_error: 'Compute Engine error',
  internal: 'Internal error',
};

export function problemOf(err: HubError): Problem {
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

export function problemResponse(c: Context, err: HubError): Response {
  return c.body(JSON.stringify(problemOf(err)), ERROR_STATUS[err.code] as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  });
}

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
