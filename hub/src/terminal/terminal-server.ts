import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TERMINAL_CLOSE_CODES, TERMINAL_SUBPROTOCOL } from '@workspace-hub/core';
import { type WebSocket, WebSocketServer } from 'ws';
import type { HubDeps } from '../deps.js';
import { TerminalSocket } from './terminal-socket.js';
import type { AcceptedUpgrade } from './terminal-upgrade.js';

/** A frame larger than this closes the socket (1009): keystrokes and control messages are small. */
const MAX_FRAME_BYTES = 256 * 1024;
/** Protocol pings; a socket that did not answer one by the next is dropped. */
const PING_INTERVAL_MS = 30_000;

export interface TerminalServer {
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, grant: AcceptedUpgrade): void;
  /** Sockets open now. */
  size(): number;
  /** Output held for browsers, summed over the sockets (bounded by flow control). */
  bufferedBytes(): number;
  /** Closes every socket with `reconnect` (the hub is shutting down). */
  closeAll(): void;
}

export interface TerminalServerOptions {
  /** HUB_TERMINAL_MAX_SECONDS: a socket is closed with `reconnect` this long after it opened. */
  maxSeconds: number;
}

/** The hub's terminal WebSockets: accepted upgrades, keepalive, and their time limit. */
export function createTerminalServer(
  deps: Pick<HubDeps, 'store' | 'agentLink' | 'log'>,
  opts: TerminalServerOptions,
): TerminalServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    // Terminal output is small frames wanted at once; compressing them costs latency and memory.
    perMessageDeflate: false,
    handleProtocols: (offered) =>
      offered.has(TERMINAL_SUBPROTOCOL) ? TERMINAL_SUBPROTOCOL : false,
  });
  const alive = new WeakMap<WebSocket, boolean>();
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  return {
    accept(req, socket, head, grant) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        // Before Cloud Run ends the request: the page reconnects and the scrollback is replayed.
        const limit = setTimeout(
          () => ws.close(TERMINAL_CLOSE_CODES.reconnect, 'reconnect'),
          opts.maxSeconds * 1000,
        );
        limit.unref();
        ws.on('close', () => clearTimeout(limit));
        new TerminalSocket(ws, grant, {
          store: deps.store,
          agentLink: deps.agentLink,
          log: deps.log.with({ user: grant.identity.email, workspace_id: grant.workspace.id }),
        });
      });
    },
    size: () => wss.clients.size,
    bufferedBytes: () => [...wss.clients].reduce((sum, ws) => sum + ws.bufferedAmount, 0),
    closeAll() {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.close(TERMINAL_CLOSE_CODES.reconnect, 'hub shutting down');
    },
  };
}
