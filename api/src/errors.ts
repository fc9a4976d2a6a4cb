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
  'precondition_failed',
  'quota_exceeded',
  'upstream_unavailable',
  'upstream_error',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
