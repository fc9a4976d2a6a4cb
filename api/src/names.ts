import { z } from 'zod';
import { WORKSPACE_ID_PATTERN } from './ids.js';

/** A DNS label: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen. */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const WORKSPACE_NAME_MAX = 63;

/**
 * Whether `s` is a name a workspace may have: a DNS label of at most 63
 * characters that is not shaped like an id, so a reference is never both.
 */
export function isWorkspaceName(s: string): boolean {
  return s.length <= WORKSPACE_NAME_MAX && DNS_LABEL.test(s) && !WORKSPACE_ID_PATTERN.test(s);
}

/** The owner's name for a workspace, unique among that owner's workspaces. */
export const WorkspaceName = z
  .string()
  .min(1)
  .max(WORKSPACE_NAME_MAX)
  .regex(
    DNS_LABEL,
    'must be lowercase letters, digits and hyphens, start with a letter and not end with a hyphen',
  )
  .refine((s) => !WORKSPACE_ID_PATTERN.test(s), 'must not look like a workspace id (ws-…)');

/**
 * How a route addresses a workspace: its id (`ws-…`, anyone's the caller may
 * see) or a name, which always means one of the caller's own workspaces.
 */
export const WorkspaceRef = z
  .string()
  .refine(
    (s) => WORKSPACE_ID_PATTERN.test(s) || isWorkspaceName(s),
    'must be a workspace id (ws-abcdefgh23) or a workspace name (my-app)',
  );

export function isWorkspaceId(ref: string): boolean {
  return WORKSPACE_ID_PATTERN.test(ref);
}
