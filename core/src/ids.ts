import { createHash, randomBytes } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A fresh workspace id: `ws-` + 10 lowercase base32 characters (50 random bits). */
export function newWorkspaceId(): string {
  const bytes = randomBytes(10);
  let id = 'ws-';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

/**
 * A UUID derived from its parts, so a retried call for the same claimed
 * transition sends the same GCE `requestId` and GCE de-duplicates it.
 */
export function deterministicRequestId(...parts: Array<string | number>): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5-like
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
