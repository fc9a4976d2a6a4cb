import { execFile, spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { TerminalSessionName } from '@workspace-hub/api';
import { listenIapTunnel, pipeStdio } from '../../iap-tunnel/index.js';
import { createContext } from '../context.js';
import { ensureDeviceKeyRegistered } from '../device-key.js';
import { CliError } from '../errors.js';
import { emit, table } from '../output.js';
import { iapTarget, prepareSsh, sshArgs } from '../ssh-target.js';
import type { Command } from './types.js';
import { int } from './types.js';
import { resolveWorkspace } from './workspaces.js';

const run = promisify(execFile);

export const keys: Command = {
  usage: 'keys',
  summary: "Show this device's SSH key, registering it with the hub if needed",
  async run({ flags }) {
    const ctx = createContext(flags);
    const key = await ensureDeviceKeyRegistered(ctx);
    const all = await ctx.client.listKeys();
    emit(
      ctx,
      {
        device_id: ctx.deviceId,
        public_key: key.publicKey,
        fingerprint: key.fingerprint,
        registered_now: key.registered,
        keys: all,
      },
      [
        `device ${ctx.deviceId}: ${key.fingerprint}${key.registered ? ' (registered now)' : ''}`,
        table([
          ['NAME', 'FINGERPRINT', 'ADDED'],
          ...all.map((k) => [k.name, k.fingerprint, k.created_at]),
        ]),
      ].join('\n'),
    );
    return 0;
  },
};

export const ssh: Command = {
  usage: 'ssh [WS] [SESSION] [-- COMMAND…]',
  summary: 'Open a persistent terminal (session `main` unless named) or run a command',
  async run({ flags, positionals, rest }) {
    const ctx = createContext(flags);
    const [wsArg, session] = positionals;
    // Checked here, before a suspended workspace is resumed for it: the agent would hand a
    // name it cannot take (`my session`) to the shell as a command.
    const name = session === undefined ? null : TerminalSessionName.safeParse(session);
    if (name && !name.success)
      throw new CliError(`session ${session}: ${name.error.issues[0]?.message}`);
    const target = await prepareSsh(ctx, wsArg);
    const args = sshArgs(target);
    if (rest.length) args.push('--', target.alias, ...rest);
    else if (session) args.push('-t', target.alias, 'attach', session);
    else args.push(target.alias);
    const child = spawn('ssh', args, { stdio: 'inherit' });
    return new Promise((resolve, reject) => {
      child.on('error', (err) => reject(new CliError(`cannot run ssh: ${err.message}`)));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  },
};

export const sessions: Command = {
  usage: 'sessions [WS]',
  summary: 'The terminals of a workspace and which devices are attached',
  async run({ flags, positionals }) {
    const ctx = createContext(flags);
    const target = await prepareSsh(ctx, positionals[0]);
    let stdout: string;
    try {
      ({ stdout } = await run(
        'ssh',
        [...sshArgs(target), '-T', target.alias, 'sessions', '--json'],
        {
          timeout: 30_000,
        },
      ));
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
      throw new CliError(
        `ssh ${target.alias}: ${stderr.split('\n').at(-1) || (err as Error).message}`,
      );
    }
    type SessionInfo = {
      name: string;
      created_at: string;
      last_activity_at: string;
      clients: { device_id: string }[];
    };
    const parsed = JSON.parse(stdout) as SessionInfo[] | { sessions: SessionInfo[] };
    const list = Array.isArray(parsed) ? parsed : parsed.sessions;
    const rows = [['SESSION', 'ATTACHED DEVICES', 'CREATED', 'LAST ACTIVITY']];
    for (const s of list)
      rows.push([
        s.name,
        s.clients.map((c) => c.device_id).join(',') || '-',
        s.created_at,
        s.last_activity_at,
      ]);
    emit(
      ctx,
      { workspace: target.ws.id, sessions: list },
      list.length ? table(rows) : 'no sessions',
    );
    return 0;
  },
};

function pipeSocketToStdio(socket: Socket): Promise<void> {
  process.stdin.pipe(socket);
  return pipeline(socket, process.stdout, { end: false });
}

export const tunnel: Command = {
  usage: 'tunnel WS [--port N | --stdio]',
  summary: "Forward the workspace's SSH port to stdio or a local port (IAP on real hubs)",
  options: { port: { type: 'string' }, stdio: { type: 'boolean' } },
  async run({ flags, positionals }) {
    const ctx = createContext(flags);
    const ws = await resolveWorkspace(ctx, positionals[0]);
    const localPort = int(flags, 'port');
    if (localPort === undefined || flags.stdio) {
      if (ctx.local) {
        const port = ws.agent?.port;
        if (!port) throw new CliError(`${ws.id}: no agent port (status ${ws.status})`);
        await pipeSocketToStdio(connect(port, '127.0.0.1'));
      } else {
        await pipeStdio(iapTarget(ws));
      }
      return 0;
    }
    let listening: { port: number; close(): Promise<void> };
    if (ctx.local) {
      const port = ws.agent?.port;
      if (!port) throw new CliError(`${ws.id}: no agent port (status ${ws.status})`);
      const server = createServer((local) => {
        const remote = connect(port, '127.0.0.1');
        local.pipe(remote).pipe(local);
        local.on('error', () => remote.destroy());
        remote.on('error', () => local.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new CliError(`--port: ${err.message}`)));
        server.listen(localPort, '127.0.0.1', resolve);
      });
      const address = server.address();
      listening = {
        port: typeof address === 'object' && address ? address.port : localPort,
        close: () => new Promise((r) => server.close(() => r())),
      };
    } else {
      listening = await listenIapTunnel({ ...iapTarget(ws), localPort });
    }
    emit(
      ctx,
      { workspace: ws.id, host: '127.0.0.1', port: listening.port },
      `${ws.id}: listening on 127.0.0.1:${listening.port} (Ctrl-C to stop)`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await listening.close();
    return 0;
  },
};
