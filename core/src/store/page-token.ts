import { WORKSPACE_ID_PATTERN } from '@workspace-hub/api';
import { HubError } from '../errors.js';

export interface PageCursor {
  /** created_at of the last item, ISO string. */
  c: string;
  /** id of the last item (a workspace's, or an event's). */
  i: string;
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** What `Date.toISOString()` makes of a Firestore timestamp (years 0001–9999, UTC). */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Firestore's Timestamp range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const MAX_MS = new Date('9999-12-31T23:59:59.999Z').getTime();

function isCursor(value: unknown, idPattern: RegExp): value is PageCursor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { c, i, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return false;
  if (typeof c !== 'string' || typeof i !== 'string') return false;
  if (!ISO_TIMESTAMP.test(c) || !idPattern.test(i)) return false;
  const ms = Date.parse(c);
  // Date.parse rolls impossible dates over (02-30 → 03-02); a token we made round-trips exactly.
  return ms >= MIN_MS && ms <= MAX_MS && new Date(ms).toISOString() === c;
}

/**
 * Decodes a token made by `encodePageToken`; anything else is a 400 naming
 * `page_token`. Every field is checked against what the store would accept
 * (a timestamp in Firestore's range, an id of what is listed), so a crafted
 * token never reaches Firestore.
 */
export function decodePageToken(token: string, idPattern = WORKSPACE_ID_PATTERN): PageCursor {
  const bad = (cause?: unknown) =>
    new HubError(
      'invalid_argument',
      'page_token is not a token this server issued',
      { field: 'page_token' },
      cause === undefined ? undefined : { cause },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw bad(err);
  }
  if (!isCursor(parsed, idPattern)) throw bad();
  return parsed;
}
