import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection } from 'ssh2';
import { Activity } from './activity.js';
import { AuthorizedKeys } from './authorized-keys.js';
import type { AgentConfig } from './config.js';
import { sessionEnv } from './environment.js';
import { handleDirectTcpip } from './forwarding.js';
import { loadOrCreateHostKey } from './host-key.js';
import { type HubCallbacks, startHubCallbacks } from './hub-callbacks.js';
import { HubClient } from './hub-client.js';
import { log } from './log.js';
import { fetchSecretsBeforeReady } from './secrets-before-ready.js';
import { serveSessionChannel } from './session-channel.js';
import { DEFAULT_STALL_POLICY, SessionManager } from './sessions.js';
import { RootedPaths } from './sftp-paths.js';
import { authenticate } from './ssh-auth.js';
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
    stall: { ...DEFAULT_STALL_POLICY, graceMs: config.stalledClientMs },
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
        authenticate(ctx, keys, info.ip, (id) => {
          deviceId = id;
        });
      });
      client.on('ready', () => {
        touch();
        client.on('session', (acceptSession) => {
          touch();
          serveSessionChannel(acceptSession(), {
            config,
            sessions,
            rootedPaths,
            touch,
            who: () => ({ user, deviceId }),
          });
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
  // (or given up on, or still coming after a while).
  const stopSecrets = new AbortController();
  await fetchSecretsBeforeReady(config, stopSecrets.signal);

  let callbacks: HubCallbacks | null = null;
  if (hub && config.workspaceId)
    callbacks = startHubCallbacks({
      hub,
      report: {
        workspace_id: config.workspaceId,
        agent_version: AGENT_VERSION,
        host_key_fingerprint: hostKey.fingerprint,
        host_public_key: hostKey.publicKey,
        port,
      },
      activity,
      sessions,
      heartbeatSeconds: config.heartbeatSeconds,
    });

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
    reportReady: () => callbacks?.reportReady(),
    close: () => {
      closing ??= (async () => {
        stopSecrets.abort();
        callbacks?.stop();
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
