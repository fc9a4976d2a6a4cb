import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/** Local TCP targets a tunnel (ours or gcloud's) can reach through the relay fake. */
export interface TcpTarget {
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Closes the server and any connection still open, so a test's cleanup never waits on one. */
function closer(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

export async function startEchoTarget(): Promise<TcpTarget> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  return { port: await listen(server), close: closer(server) };
}

/** Hashes everything one connection sends, until it ends. */
export async function startSinkTarget(): Promise<TcpTarget & { digests: Promise<string>[] }> {
  const digests: Promise<string>[] = [];
  const server = createServer((socket) => {
    const hash = createHash('sha256');
    digests.push(
      new Promise((resolve) => {
        socket.on('data', (chunk) => hash.update(chunk));
        socket.on('end', () => {
          resolve(hash.digest('hex'));
          socket.end();
        });
        socket.on('error', () => resolve('error'));
      }),
    );
  });
  return { port: await listen(server), close: closer(server), digests };
}

/** Sends `bytes` random bytes to each connection, then closes it; `digest` is their sha256. */
export async function startSourceTarget(bytes: number): Promise<TcpTarget & { digest: string }> {
  const payload = randomBytes(bytes);
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(payload);
  });
  return {
    port: await listen(server),
    close: closer(server),
    digest: createHash('sha256').update(payload).digest('hex'),
  };
}
