import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Workspace } from '@workspace-hub/core';
import type { Identity } from './auth/identity.js';
import type { Logger } from './log.js';

/**
 * What @hono/node-server passes beside the Request: Node's own request (HTTP/1 or /2), whose
 * body the upload reads without the web stream over it, and whose headers are read without
 * building the full web Request (`http/request-header.ts`). Absent when the app is called
 * without a server (tests).
 */
export interface NodeBindings {
  incoming?: Readable & { headers: IncomingHttpHeaders };
}

/** Hono context variables set by the middleware. */
export interface HubEnv {
  Bindings: NodeBindings;
  Variables: {
    identity: Identity;
    /** The workspace an agent callback authenticated as (`/agent/*`). */
    agentWorkspace: Workspace;
    log: Logger;
  };
}
