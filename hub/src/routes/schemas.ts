import { Problem, WorkspaceRef } from '@workspace-hub/core';
import { z } from 'zod';

/**
 * `/workspaces/{id}…`: a workspace id, or the name of one of the caller's own
 * workspaces (an admin addresses another user's by its id).
 */
export const IdParams = z.object({
  id: WorkspaceRef.describe(
    "The workspace's id (`ws-…`), or the name of one of your own workspaces; an admin addresses another user's workspace by its id",
  ),
});

const problemContent = { 'application/problem+json': { schema: Problem } };

/** The error responses every authenticated route may give. */
export const problemResponses = {
  400: { description: 'Invalid input; `field` names it', content: problemContent },
  401: { description: 'Not signed in', content: problemContent },
  403: { description: 'Not allowed', content: problemContent },
  404: { description: 'No such workspace (or not yours)', content: problemContent },
  409: { description: 'Not allowed in the current status', content: problemContent },
  413: { description: 'Request body too large', content: problemContent },
  415: { description: 'Body not sent as application/json', content: problemContent },
  429: { description: 'Quota exceeded', content: problemContent },
  502: { description: 'Compute Engine error', content: problemContent },
  503: {
    description: 'Firestore or Compute Engine unavailable; Retry-After says when to try again',
    content: problemContent,
  },
} as const;

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
