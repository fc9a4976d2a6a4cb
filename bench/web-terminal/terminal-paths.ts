import { type TerminalServerMessage, terminalSubprotocols } from '@workspace-hub/core';
import ssh2 from 'ssh2';
import WebSocket from 'ws';
import type { BenchHub } from './local-hub.js';

/** One attached terminal, whichever way it reached the session. */
export interface TerminalPath {
  write(data: string): void;
  /** Returns what stops the listener. */
  onOutput(listener: (data: Buffer) => void): () => void;
  close(): void;
}

/** Through the hub: WebSocket → hub → the hub's SSH connection → agent. */
export function viaHub(hub: BenchHub, session: string): Promise<TerminalPath> {
  const ws = new WebSocket(
    `${hub.url.replace(/^http/, 'ws')}/workspaces/${hub.workspace.id}/terminal`,
    terminalSubprotocols(`dev:${hub.email}`),
    { origin: hub.url, perMessageDeflate: false },
  );
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      ws.send(JSON.stringify({ type: 'attach', session, cols: 120, rows: 40 })),
    );
    const listeners: ((data: Buffer) => void)[] = [];
    // The replay may arrive before anyone listens: kept until the first listener comes.
    let early: Buffer[] | null = [];
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (early) early.push(data);
        for (const l of listeners) l(data);
        return;
      }
      const msg = JSON.parse(data.toString('utf8')) as TerminalServerMessage;
      if (msg.type === 'attached')
        resolve({
          write: (text) => ws.send(Buffer.from(text), { binary: true }),
          onOutput: (l) => {
            listeners.push(l);
            const held = early ?? [];
            early = null;
            // Later, so the caller has its stop function before the listener runs.
            queueMicrotask(() => {
              for (const d of held) l(d);
            });
            return () => listeners.splice(listeners.indexOf(l), 1);
          },
          close: () => ws.close(),
        });
      else if (msg.type === 'error') reject(new Error(`${msg.code}: ${msg.message}`));
    });
  });
}

/** An SSH connection straight to the agent (what `ssh` does), for the anchor. */
export function sshConnection(hub: BenchHub): Promise<ssh2.Client> {
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: hub.workspace.agent!.port!,
      username: hub.email,
      privateKey: hub.deviceKey,
    });
  });
}

export function viaSsh(client: ssh2.Client, session: string): Promise<TerminalPath> {
  return new Promise((resolve, reject) => {
    client.exec(
      `attach ${session}`,
      { pty: { cols: 120, rows: 40, term: 'xterm-256color' } },
      (err, channel) => {
        if (err) return reject(err);
        resolve({
          write: (text) => channel.write(text),
          onOutput: (l) => {
            channel.on('data', l);
            return () => channel.off('data', l);
          },
          close: () => channel.close(),
        });
      },
    );
  });
}
