import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type ServerChannel, type Session as SshSession } from 'ssh2';
import { Activity } from './activity.js';
import { AuthorizedKeys } from './authorized-keys.js';
import type { AgentConfig } from './config.js';
import { acceptsClientEnv, sessionEnv } from './environment.js';
import { type RunningCommand, runCommand } from './exec.js';
import { handleDirectTcpip } from './forwarding.js';
import { HeartbeatLoop } from './heartbeat.js';
import { fingerprintOf, loadOrCreateHostKey } from './host-key.js';
import { HubClient } from './hub-client.js';
import { audit, log } from './log.js';
import { sleep } from './metadata.js';
import { checkSecretsDir, fetchSecrets } from './secrets.js';
import { formatSessions, parseCommand } from './session-commands.js';
import {
  SESSION_NAME,
  type Session,
  type SessionClient,
  SessionManager,
  type TerminalSize,
} from './sessions.js';
import { serveSftp } from './sftp.js';
import { RootedPaths } from './sftp-paths.js';
import { AGENT_VERSION } from './version.js';

export interface RunningAgent {
  port: number;
  hostKeyFingerprint: string;
  /** `ssh-ed25519 AAAA…`, for a known_hosts line. */
  hostPublicKey: string;
  /** Tells the hub again that the agent is up (after a resume); no-op without a hub. */
  reportReady(): void;
  /** Stops listening, disconnects clients, ends every session. */
  close(): Promise<void>;
}

/** How long the hub's ready report waits for the secrets; the fetch goes on after that. */
const SECRETS_READY_WAIT_MS = 30_000;

interface ChannelState {
  env: Record<string, string>;
  pty: (TerminalSize & { term: string }) | null;
  onResize: ((size: TerminalSize) => void) | null;
}

/** Starts the SSH server with its sessions, SFTP, forwarding and hub callbacks. */
export async function startAgent(config: AgentConfig): Promise<RunningAgent> {
  mkdirSync(config.home, { recursive: true });
  const hostKey = loadOrCreateHostKey(config.hostKeyFile);
  const activity = new Activity();
  const hub =
    config.hubUrl && config.workspaceId
      ? new HubClient({
          hubUrl: config.hubUrl,
          workspaceId: config.workspaceId,
          agentToken: config.agentToken,
          metadataHost: config.metadataHost,
        })
      : null;
  const keys = new AuthorizedKeys(hub, config.authorizedKeysFile);
  const rootedPaths = await RootedPaths.create(config.home);
  const sessions = new SessionManager({
    home: config.home,
    shell: config.shell,
    scrollbackBytes: config.scrollbackBytes,
    activity,
    env: (name, term) =>
      sessionEnv({
        home: config.home,
        shell: config.shell,
        secretsDir: config.secretsDir,
        clientEnv: {},
        term,
        extra: { WSH_SESSION: name },
      }),
  });
  const connections = new Set<Connection>();
  const touch = () => activity.touch();

  const server = new ssh2.Server(
    { hostKeys: [hostKey.privateKey], ident: `vm-agent_${AGENT_VERSION}` },
    (client, info) => {
      connections.add(client);
      // Keystrokes and their echoes are tiny writes: like sshd on an interactive
      // session, send each at once instead of holding it for an earlier one's ACK.
      // (ssh2 has this on server connections too; its typings miss it.)
      (client as Connection & { setNoDelay(on: boolean): void }).setNoDelay(true);
      let user = '';
      let deviceId = 'unknown';
      client.on('authentication', (ctx) => {
        user = ctx.username;
        if (ctx.method !== 'publickey') {
          if (ctx.method !== 'none')
            audit('auth', { result: 'refused', method: ctx.method, user, remote: info.ip });
          return ctx.reject(['publickey']);
        }
        const blob = ctx.key.data;
        const fingerprint = fingerprintOf(blob);
        keys
          .find(blob)
          .then((key) => {
            if (!key) {
              audit('auth', {
                result: 'refused',
                method: 'publickey',
                user,
                fingerprint,
                remote: info.ip,
              });
              return ctx.reject(['publickey']);
            }
            // Without a signature the client only asks whether the key would do.
            if (!ctx.signature) return ctx.accept();
            const parsed = ssh2.utils.parseKey(`${ctx.key.algo} ${blob.toString('base64')}`);
            const verified =
              !(parsed instanceof Error) &&
              ctx.blob !== undefined &&
              parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo);
            audit('auth', {
              result: verified ? 'accepted' : 'refused',
              method: 'publickey',
              user,
              fingerprint,
              device_id: key.deviceId,
              key_source: key.source,
              remote: info.ip,
            });
            if (!verified) return ctx.reject(['publickey']);
            deviceId = key.deviceId;
            ctx.accept();
          })
          .catch((err) => {
            log('ERROR', 'key lookup failed', { error: (err as Error).message });
            ctx.reject(['publickey']);
          });
      });
      client.on('ready', () => {
        touch();
        client.on('session', (acceptSession) => {
          touch();
          handleSession(acceptSession(), () => ({ user, deviceId }));
        });
        client.on('tcpip', (accept, reject, tcpInfo) =>
          handleDirectTcpip(
            accept,
            reject,
            tcpInfo,
            { user, deviceId, remote: info },
            config.forwardDenyPorts,
            touch,
          ),
        );
      });
      client.on('error', (err) =>
        log('DEBUG', 'ssh connection error', { error: err.message, remote: info.ip }),
      );
      client.on('close', () => connections.delete(client));
    },
  );

  function handleSession(channel: SshSession, who: () => { user: string; deviceId: string }): void {
    const state: ChannelState = { env: {}, pty: null, onResize: null };
    const device = () => state.env.WSH_DEVICE_ID || who().deviceId;
    channel.on('env', (accept, reject, e) => {
      if (acceptsClientEnv(e.key)) {
        state.env[e.key] = e.val;
        accept?.();
      } else reject?.();
    });
    channel.on('pty', (accept, _reject, p) => {
      state.pty = { cols: p.cols || 80, rows: p.rows || 24, term: p.term || 'xterm-256color' };
      accept?.();
    });
    channel.on('window-change', (accept, _reject, w) => {
      const size = { cols: w.cols, rows: w.rows };
      if (state.pty) Object.assign(state.pty, size);
      state.onResize?.(size);
      accept?.();
    });
    channel.on('signal', (accept) => accept?.());
    channel.on('shell', (accept) => attach(accept(), 'main', state, device()));
    channel.on('exec', (accept, _reject, e) => {
      const stream = accept();
      const command = parseCommand(e.command);
      const base = { user: who().user, device_id: device() };
      switch (command.kind) {
        case 'attach':
          return attach(stream, command.name, state, device());
        case 'sessions': {
          audit('exec', { ...base, command: 'sessions' });
          const list = sessions.list().map((s) => s.info());
          stream.write(
            command.json ? `${JSON.stringify({ sessions: list })}\n` : formatSessions(list),
          );
          stream.exit(0);
          return stream.end();
        }
        case 'kill': {
          const session = sessions.get(command.name);
          audit('session', {
            ...base,
            action: 'kill',
            session: command.name,
            found: Boolean(session),
          });
          if (!session) {
            stream.stderr.write(`no session named ${command.name}\n`);
            stream.exit(1);
            return stream.end();
          }
          void session.kill().then(() => {
            stream.exit(0);
            stream.end();
          });
          return;
        }
        case 'exec': {
          const name = command.command.trim().split(/\s+/)[0] ?? '';
          audit('exec', {
            ...base,
            command: config.auditCommands ? command.command : name,
            pty: Boolean(state.pty),
          });
          const running: RunningCommand = runCommand(stream, command.command, {
            shell: config.shell,
            cwd: config.home,
            env: sessionEnv({
              home: config.home,
              shell: config.shell,
              secretsDir: config.secretsDir,
              clientEnv: state.env,
              term: state.pty?.term ?? null,
            }),
            pty: state.pty,
            onActivity: touch,
          });
          state.onResize = (size) => running.resize(size);
          return;
        }
      }
    });
    channel.on('sftp', (accept) => {
      audit('sftp', { user: who().user, device_id: device() });
      serveSftp(accept(), rootedPaths, touch);
    });
  }

  function attach(
    stream: ServerChannel,
    name: string,
    state: ChannelState,
    deviceId: string,
  ): void {
    if (!SESSION_NAME.test(name)) {
      stream.stderr.write(`invalid session name: ${name} (letters, digits, . _ -)\n`);
      stream.exit(2);
      stream.end();
      return;
    }
    let session: Session;
    let created: boolean;
    try {
      ({ session, created } = sessions.getOrCreate(name, state.pty, state.pty?.term ?? null));
    } catch (err) {
      stream.stderr.write(`cannot start session ${name}: ${(err as Error).message}\n`);
      stream.exit(1);
      stream.end();
      return;
    }
    audit('session', {
      action: created ? 'create' : 'attach',
      session: name,
      device_id: deviceId,
      pid: session.pid,
    });
    const client: SessionClient = {
      deviceId,
      write: (data) => stream.write(data),
      onDrain: (resume) => {
        stream.once('drain', resume);
        stream.once('close', resume);
      },
      exited: (code, signal) => {
        if (signal) stream.exit(signal, false, '');
        else stream.exit(code ?? 0);
        stream.end();
      },
    };
    const detach = session.attach(client, state.pty);
    state.onResize = (size) => session.resize(size);
    stream.on('data', (d: Buffer) => session.input(d));
    stream.on('close', () => {
      detach();
      if (!session.exitStatus)
        audit('session', { action: 'detach', session: name, device_id: deviceId });
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err: Error) => log('ERROR', 'ssh server error', { error: err.message }));
  const port = (server.address() as AddressInfo).port;
  log('INFO', 'ssh server listening', { port });

  // SSH is up already; the hub hears "ready" once the secrets are in place
  // (or given up on, or still coming after SECRETS_READY_WAIT_MS).
  const stopSecrets = new AbortController();
  if (config.secretsDir && config.secretNames.length > 0) {
    const fetching = fetchSecrets({
      dir: config.secretsDir,
      names: config.secretNames,
      project: config.project,
      endpoint: config.secretManagerEndpoint,
      metadataHost: config.metadataHost,
      signal: stopSecrets.signal,
    }).then(
      () => true,
      // fetchSecrets does not throw; if it ever did, its message is not logged (it could quote a value).
      (err: unknown) => {
        log('ERROR', 'fetching secrets failed unexpectedly', { error: (err as Error)?.name });
        return true;
      },
    );
    const waitOver = new AbortController();
    const done = await Promise.race([
      fetching,
      sleep(SECRETS_READY_WAIT_MS, waitOver.signal).then(() => false),
    ]);
    waitOver.abort();
    if (!done)
      log('WARNING', 'secrets still being fetched; reporting ready anyway', {
        waited_seconds: SECRETS_READY_WAIT_MS / 1000,
      });
  } else if (config.secretsDir) void checkSecretsDir(config.secretsDir);

  let heartbeat: HeartbeatLoop | null = null;
  let reportReadyAgain = (): void => {};
  if (hub && config.workspaceId) {
    const workspaceId = config.workspaceId;
    let readyInFlight = false;
    let readyAgain = false;
    const reportReady = (): void => {
      if (readyInFlight) {
        readyAgain = true;
        return;
      }
      readyInFlight = true;
      void hub
        .ready({
          workspace_id: workspaceId,
          agent_version: AGENT_VERSION,
          host_key_fingerprint: hostKey.fingerprint,
          host_public_key: hostKey.publicKey,
          port,
        })
        .then((ok) => {
          if (ok) log('INFO', 'reported ready to the hub');
        })
        .finally(() => {
          readyInFlight = false;
          if (readyAgain) {
            readyAgain = false;
            reportReady();
          }
        });
    };
    reportReady();
    reportReadyAgain = reportReady;
    heartbeat = new HeartbeatLoop({
      hub,
      workspaceId,
      activity,
      intervalSeconds: config.heartbeatSeconds,
      snapshot: () => {
        const list = sessions.list();
        // The hub takes ids of at most 64 characters; a key comment or WSH_DEVICE_ID may be longer.
        const devices = list.flatMap((s) => s.clientDevices).map((d) => d.slice(0, 64));
        return { sessions: list.length, attachedDevices: [...new Set(devices)] };
      },
      reportReady,
    });
    heartbeat.start();
  }

  log('INFO', 'vm-agent ready', {
    port,
    host_key_fingerprint: hostKey.fingerprint,
    version: AGENT_VERSION,
    hub: config.hubUrl ?? null,
  });

  let closing: Promise<void> | null = null;
  return {
    port,
    hostKeyFingerprint: hostKey.fingerprint,
    hostPublicKey: hostKey.publicKey,
    reportReady: () => reportReadyAgain(),
    close: () => {
      closing ??= (async () => {
        stopSecrets.abort();
        heartbeat?.stop();
        hub?.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const c of connections) c.end();
        await sessions.killAll();
        for (const c of connections)
          (c as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
        await stopped;
      })();
      return closing;
    },
  };
}
