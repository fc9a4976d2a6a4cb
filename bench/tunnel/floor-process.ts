// A plain TCP or TLS server in a process of its own, with no WebSocket and no relay: what two
// Node processes reach over loopback at all, the floor under the tunnel's paths (the relay is
// one process, the client and targets another). A connection's first byte picks its part:
// DOWNLOAD sends `bytes` (argv[2]) then ends, anything else echoes what follows it.
// With `--forward DOWNLOAD_PORT ECHO_PORT` it is instead a TLS server that forwards each
// connection over plain TCP to the target its first byte names, as the relay does but with no
// WebSocket, no IAP framing and no acks: the two hops every wss tunnel crosses, and nothing else.
import { randomBytes } from 'node:crypto';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { selfSignedLoopbackCert } from '../../testing/src/iap-relay/self-signed.js';
import { endWithParent } from '../lib/side-process.js';

export const DOWNLOAD = 0x64;
export const ECHO = 0x65;

const bytes = Number(process.argv[2]);
const block = randomBytes(256 * 1024);

/** Writes as the socket drains, as a TCP source does (TLS would otherwise encrypt it all at once). */
function send(socket: Socket, left: number): void {
  while (left > 0) {
    const n = Math.min(left, block.length);
    left -= n;
    if (!socket.write(block.subarray(0, n))) {
      socket.once('drain', () => send(socket, left));
      return;
    }
  }
  socket.end();
}

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.once('data', (first: Buffer) => {
    if (first[0] === DOWNLOAD) return send(socket, bytes);
    if (first.length > 1) socket.write(first.subarray(1));
    socket.pipe(socket);
  });
}

function forward(ports: { download: number; echo: number }): (socket: Socket) => void {
  return (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.once('data', (first: Buffer) => {
      const target = connect(first[0] === DOWNLOAD ? ports.download : ports.echo, '127.0.0.1');
      target.setNoDelay(true);
      target.on('error', () => socket.destroy());
      socket.on('close', () => target.destroy());
      if (first.length > 1) target.write(first.subarray(1));
      socket.pipe(target);
      target.pipe(socket);
    });
  };
}

if (process.argv[1]?.endsWith('floor-process.ts')) {
  const at = process.argv.indexOf('--forward');
  const server =
    at > 0
      ? createTlsServer(
          selfSignedLoopbackCert(),
          forward({ download: Number(process.argv[at + 1]), echo: Number(process.argv[at + 2]) }),
        )
      : process.argv.includes('--tls')
        ? createTlsServer(selfSignedLoopbackCert(), serve)
        : createTcpServer(serve);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  endWithParent(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  );
}
