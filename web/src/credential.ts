/**
 * The caller's credential as the page holds it. Under `iap` and `cloud-run-iam` the platform (or
 * `wsh dashboard`'s proxy) adds it to every request and the page holds none; under `dev` it is
 * the signed-in email, kept for this tab only (sessionStorage), sent as `Bearer dev:<email>`.
 * No cookies: a request another site makes carries no credential of ours.
 */
const KEY = 'wsh.dev-email';

export function devEmail(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signInAs(email: string): void {
  sessionStorage.setItem(KEY, email.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

export function authorizationHeaders(): Record<string, string> {
  const email = devEmail();
  return email ? { authorization: `Bearer dev:${email}` } : {};
}

export const TERMINAL_PROTOCOL = 'wsh.terminal.v1';

/**
 * Browsers cannot set headers on a WebSocket: the same credential rides in
 * Sec-WebSocket-Protocol as `bearer.<base64url(token)>`; the hub answers with
 * TERMINAL_PROTOCOL only.
 */
export function webSocketProtocols(): string[] {
  const email = devEmail();
  if (!email) return [TERMINAL_PROTOCOL];
  const token = new TextEncoder().encode(`dev:${email}`);
  const b64 = btoa(String.fromCharCode(...token))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return [TERMINAL_PROTOCOL, `bearer.${b64}`];
}
