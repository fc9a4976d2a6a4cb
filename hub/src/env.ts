import type { Workspace } from '@workspace-hub/core';
import type { Identity } from './auth/identity.js';
import type { Logger } from './log.js';

/** Hono context variables set by the middleware. */
export interface HubEnv {
  Variables: {
    identity: Identity;
    /** The workspace an agent callback authenticated as (`/agent/*`). */
    agentWorkspace: Workspace;
    log: Logger;
  };
}
