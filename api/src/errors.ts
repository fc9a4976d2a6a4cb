/**
 * The stable `code` of every problem the hub answers with. Clients branch on these, never on
 * messages; the HTTP status each maps to is the hub's business (the hub's ERROR_STATUS).
 */
export const ERROR_CODES = [
  'invalid_argument',
  'unauthenticated',
  'permission_denied',
  'not_found',
  'conflict',
  /** The workspace is not READY (`current_status` says what it is): files and terminals need its agent. */
  'workspace_not_ready',
  'precondition_failed',
  'quota_exceeded',
  'upstream_unavailable',
  'upstream_error',
  /** The workspace is READY but the hub could not reach its agent. */
  'agent_unreachable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
