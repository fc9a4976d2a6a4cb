/**
 * Whether a WebSocket upgrade comes from a page of the hub itself: its `Origin` names the host
 * the request was sent to. Browsers always send `Origin` on a WebSocket; a page of another site
 * would carry the user's IAP cookie along (cross-site WebSocket hijacking), so anything else,
 * a missing `Origin` included, is refused.
 */
export function isSameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  return url.host.toLowerCase() === host.toLowerCase();
}
