import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubDeps } from '../deps.js';
import { createTerminalServer } from './terminal-server.js';
import { terminalUpgradeHandler } from './terminal-upgrade.js';

export { registerTerminalRoute } from './terminal-route.js';

export interface Terminals {
  /** Node's `upgrade` event of the hub's HTTP server. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open sockets. */
  size(): number;
  /** Output held for browsers, summed over the sockets. */
  bufferedBytes(): number;
  closeAll(): void;
}

/** The browser terminal's sockets, given the app's fetch (every upgrade goes through the app). */
export function createTerminals(
  deps: HubDeps,
  fetch: (req: Request) => Promise<Response>,
): Terminals {
  const server = createTerminalServer(deps, { maxSeconds: deps.config.HUB_TERMINAL_MAX_SECONDS });
  return {
    upgrade: terminalUpgradeHandler(fetch, server.accept),
    size: server.size,
    bufferedBytes: server.bufferedBytes,
    closeAll: server.closeAll,
  };
}
