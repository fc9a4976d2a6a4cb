import { createServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type IapTunnelOptions, resolveOptions } from './options.js';
import { IapTunnelStream } from './tunnel-stream.js';

/** Opens a TCP connection to `instance:port` through IAP. Rejects with an IapTunnelError. */
export async function openIapTunnel(opts: IapTunnelOptions): Promise<IapTunnelStream> {
  const tunnel = new IapTunnelStream(resolveOptions(opts));
  try {
    await tunnel.open();
  } catch (err) {
    tunnel.destroy();
    throw err;
  }
  return tunnel;
}

export interface IapTunnelListenOptions extends IapTunnelOptions {
  /** Local port to listen on; 0 (the default) picks a free one. */
  localPort?: number;
  /** Local address; loopback unless you mean to share the tunnel. */
  host?: string;
  /** Called when a tunnel for an accepted connection fails (the local socket is then closed). */
  onError?: (err: Error) => void;
}

export interface IapTunnelListener {
  port: number;
  host: string;
  close(): Promise<void>;
}

/** Listens locally like `gcloud compute start-iap-tunnel`: one tunnel per accepted connection. */
export async function listenIapTunnel(opts: IapTunnelListenOptions): Promise<IapTunnelListener> {
  resolveOptions(opts); // bad options fail here, not on the first connection
  const { localPort = 0, host = '127.0.0.1', onError, ...tunnelOpts } = opts;
  const open = new Set<Socket | Duplex>();
  const server = createServer((local) => {
    open.add(local);
    local.on('close', () => open.delete(local));
    local.on('error', () => {});
    openIapTunnel(tunnelOpts).then(
      (tunnel) => {
        if (local.destroyed) {
          tunnel.destroy();
          return;
        }
        open.add(tunnel);
        tunnel.on('close', () => open.delete(tunnel));
        tunnel.on('error', (err) => {
          onError?.(err);
          local.destroy();
        });
        local.on('close', () => tunnel.destroy());
        local.pipe(tunnel).pipe(local);
      },
      (err: Error) => {
        onError?.(err);
        local.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(localPort, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : localPort;
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * For ssh's ProxyCommand: stdin → tunnel → stdout. Resolves when the remote end
 * closes, or when stdin ends and the relay has acknowledged all of it.
 */
export async function pipeStdio(
  opts: IapTunnelOptions,
  stdio: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream } = process,
): Promise<void> {
  const tunnel = await openIapTunnel(opts);
  stdio.stdin.pipe(tunnel);
  try {
    await pipeline(tunnel, stdio.stdout, { end: stdio.stdout !== process.stdout });
  } finally {
    stdio.stdin.unpipe(tunnel);
  }
}
