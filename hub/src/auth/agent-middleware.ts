import type { MiddlewareHandler } from 'hono';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { authenticateAgent } from './agent.js';

/**
 * Authenticates every agent callback from its headers alone, before anything
 * reads its body: an unauthenticated caller never gets a body parsed or
 * buffered, whatever it sends.
 */
export function agentAuthentication(deps: HubDeps): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    c.set('agentWorkspace', await authenticateAgent(deps, c));
    await next();
  };
}
