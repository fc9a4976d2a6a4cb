import type { Identity } from './auth/identity.js';
import type { Logger } from './log.js';

/** Hono context variables set by the middleware. */
export interface HubEnv {
  Variables: {
    identity: Identity;
    log: Logger;
  };
}
