import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP address (optionally the local address to connect from) or a Unix socket path. */
export type Endpoint = { host: string; port: number; localAddress?: string } | { path: string };

export interface BridgeSpec {
  listen: Endpoint;
  /** Where each accepted connection is piped; omitted: an echo service (a host port nobody opened). */
  connect?: Endpoint;
}

/** How long a bridged connection may take to reach its target (a dropped SYN never answers). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Pipes every connection accepted on `listen` to `connect`. Unix sockets cross
 * network namespaces (a path is not a network address), so a process in one
 * namespace reaches a server in another only through one of these.
 */
export async function startBridge(
  spec: BridgeSpec,
): Promise<{ port: number | null; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((inbound) => {
    track(inbound);
    if (!spec.connect) {
      inbound.pipe(inbound);
      return;
    }
    const outbound = 'path' in spec.connect ? connect(spec.connect.path) : connect(spec.connect);
    track(outbound);
    outbound.setTimeout(CONNECT_TIMEOUT_MS, () => outbound.destroy());
    outbound.once('connect', () => outbound.setTimeout(0));
    inbound.pipe(outbound).pipe(inbound);
    outbound.once('close', () => inbound.destroy());
    inbound.once('close', () => outbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in spec.listen) server.listen(spec.listen.path, resolve);
    else server.listen(spec.listen.port, spec.listen.host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : null,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
