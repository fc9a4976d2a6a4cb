import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { bearerFromSubprotocols, HubError } from '@workspace-hub/core';
import { problemFetchResponse } from '../http/problem.js';
import { TERMINAL_PATH } from './terminal-route.js';
import type { TerminalGrant } from './upgrade-grants.js';
import { expectUpgrade } from './upgrade-grants.js';

export type AcceptedUpgrade = NonNullable<TerminalGrant['accepted']>;

/**
 * Node's `upgrade` event for the hub: the request goes through the whole app as a Fetch
 * request (request log, authentication per HUB_AUTH, the Firestore guard, the terminal
 * route's origin and authorization checks); only what the route accepted becomes a WebSocket,
 * anything else gets the app's answer (problem+json) and the socket is closed.
 */
export function terminalUpgradeHandler(
  fetch: (req: Request) => Promise<Response>,
  accept: (req: IncomingMessage, socket: Duplex, head: Buffer, grant: AcceptedUpgrade) => void,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0]!;
    if (!TERMINAL_PATH.test(path)) {
      void writeResponse(
        socket,
        problemFetchResponse(new HubError('not_found', `no WebSocket at ${path}`)),
      );
      return;
    }
    const request = fetchRequestOf(req);
    const grant = expectUpgrade(request);
    fetch(request).then(
      (res) => {
        if (grant.accepted && res.status === 204) accept(req, socket, head, grant.accepted);
        else void writeResponse(socket, res);
      },
      () => socket.destroy(),
    );
  };
}

/** The upgrade as a Fetch request; a bearer offered as a subprotocol becomes `Authorization`. */
function fetchRequestOf(req: IncomingMessage): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const offered = (headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  const bearer = bearerFromSubprotocols(offered);
  // Browsers cannot set headers on a WebSocket: the same credential, carried another way.
  if (bearer && !headers.has('authorization')) headers.set('authorization', `Bearer ${bearer}`);
  return new Request(`http://${headers.get('host') ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
  });
}

async function writeResponse(socket: Duplex, res: Response): Promise<void> {
  const body = Buffer.from(await res.arrayBuffer());
  const lines = [`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`];
  res.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'connection') lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
  else socket.destroy();
}
