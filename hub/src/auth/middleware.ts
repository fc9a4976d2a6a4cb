import { HubError } from '@workspace-hub/core';
import type { MiddlewareHandler } from 'hono';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { checkAllowed } from './verifiers.js';

/** Establishes `identity` for user routes: the configured verifier, then the allow-list. */
export function authenticate(
  deps: Pick<HubDeps, 'verifier' | 'config'>,
): MiddlewareHandler<HubEnv> {
  const policy = deps.config.access;
  return async (c, next) => {
    const caller = await deps.verifier(c);
    if (!checkAllowed(caller, policy))
      throw new HubError('permission_denied', `${caller.email} is not allowed to use this hub`);
    c.set('identity', { ...caller, admin: policy.admins.includes(caller.email) });
    c.set('log', c.get('log').with({ user: caller.email }));
    await next();
  };
}
