import type { Workspace } from '@workspace-hub/core';
import type { Identity } from '../auth/identity.js';

/** What the terminal route decided about one upgrade request, for the upgrade handler. */
export interface TerminalGrant {
  /** The caller and the workspace as the route read it (the socket's first lease uses it). */
  accepted: { identity: Identity; workspace: Workspace } | null;
}

/**
 * Upgrade requests the hub's own upgrade handler made, each with the grant the route fills in.
 * A plain HTTP GET of the route has none and is refused: only the handler can hand the socket
 * over, and only after the app's middleware (authentication) and the route (origin,
 * authorization) accepted it.
 */
const grants = new WeakMap<Request, TerminalGrant>();

export function expectUpgrade(req: Request): TerminalGrant {
  const grant: TerminalGrant = { accepted: null };
  grants.set(req, grant);
  return grant;
}

export function pendingUpgrade(req: Request): TerminalGrant | undefined {
  return grants.get(req);
}
