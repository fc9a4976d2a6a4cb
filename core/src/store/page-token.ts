import { HubError } from '../errors.js';

export interface PageCursor {
  /** created_at of the last item, ISO string. */
  c: string;
  /** id of the last item. */
  i: string;
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Decodes a token made by `encodePageToken`; anything else is a 400 naming `page_token`. */
export function decodePageToken(token: string): PageCursor {
  const bad = () =>
    new HubError('invalid_argument', 'page_token is not a token this server issued', {
      field: 'page_token',
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as PageCursor).c !== 'string' ||
    typeof (parsed as PageCursor).i !== 'string' ||
    Number.isNaN(Date.parse((parsed as PageCursor).c))
  )
    throw bad();
  return parsed as PageCursor;
}
