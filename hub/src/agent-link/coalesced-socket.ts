import { connect, type Socket } from 'node:net';

/**
 * A TCP connection to an agent whose writes within one turn of the event loop leave together.
 * ssh2 writes every SSH packet to its socket on its own: an upload's WRITE of 224 KiB is seven
 * packets, and a window adjust from the agent releases dozens at once, each a system call of its
 * own. Corked until the end of the current turn (`process.nextTick`), they go out in one
 * `writev`; nothing waits longer than the code that is running already, so a keystroke is not
 * delayed. Nagle is off: what the turn wrote is sent at once, as OpenSSH does on interactive
 * sessions.
 */
export function connectCoalesced(host: string, port: number): Socket {
  const sock = connect({ host, port, noDelay: true });
  const write = sock.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: Socket, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
  return sock;
}
