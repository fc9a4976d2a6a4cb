import { fileURLToPath } from 'node:url';
import type { Workspace } from '@workspace-hub/api';
import { clientEnv } from '../env.js';
import { listenIapTunnel } from '../iap-tunnel/index.js';
import { googleAccessTokenProvider } from '../sdk/auth.js';
import { resolveWorkspace } from './commands/workspaces.js';
import type { CliContext } from './context.js';
import { ensureDeviceKeyRegistered } from './device-key.js';
import { CliError } from './errors.js';
import { hostAlias, knownHostsPath, pinHostKey, verifiedHostKey } from './host-keys.js';
import { waitForStatus } from './wait.js';

/** The port of the vm-agent's SSH server on a real workspace VM. */
export const AGENT_SSH_PORT = 2222;

export interface SshTarget {
  ws: Workspace;
  alias: string;
  /** ssh_config options, `[keyword, value]`, usable as `-o` or as `Host` block lines. */
  options: [string, string][];
}

// The bin, not this file's folder: it runs the bundle (dist/wsh/) or tsc's dist/cli/, whichever
// is current, so a ProxyCommand written to ~/.ssh/config keeps working across builds.
const WSH_BIN = fileURLToPath(new URL('../../bin/wsh.js', import.meta.url));

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

export function iapTarget(ws: Workspace) {
  return {
    project: ws.project_id,
    zone: ws.zone,
    instance: ws.instance_name,
    // The port the agent reported at ready (the deployment's HUB_AGENT_PORT), else the default.
    port: ws.agent?.port ?? AGENT_SSH_PORT,
    getToken: googleAccessTokenProvider(),
    relayUrl: clientEnv().WSH_IAP_RELAY_URL || undefined,
  };
}

/** How ssh reaches the agent: straight to 127.0.0.1 on local hubs, through `wsh tunnel` otherwise. */
function endpointOptions(ctx: CliContext, ws: Workspace): [string, string][] {
  if (ctx.local) {
    const port = ws.agent?.port;
    if (!port)
      throw new CliError(`${ws.id}: the hub has no agent port for it (status ${ws.status})`);
    return [
      ['HostName', '127.0.0.1'],
      ['Port', String(port)],
    ];
  }
  const proxy = [process.execPath, WSH_BIN, 'tunnel', ws.id, '--stdio', '--hub', ctx.hub.url];
  return [
    ['HostName', ws.instance_name],
    ['ProxyCommand', proxy.map(quote).join(' ')],
  ];
}

/** Pins the workspace's host key (vouched for by the hub) and builds the ssh options. */
export async function sshTargetFor(
  ctx: CliContext,
  ws: Workspace,
  keyPath: string,
): Promise<SshTarget> {
  const alias = hostAlias(ws);
  const keyLine = await verifiedHostKey(ws, async () => {
    if (ctx.local) return { host: '127.0.0.1', port: ws.agent?.port ?? 0 };
    const listener = await listenIapTunnel({ ...iapTarget(ws), localPort: 0 });
    return { host: '127.0.0.1', port: listener.port, close: () => listener.close() };
  });
  const knownHosts = knownHostsPath(ctx);
  pinHostKey(knownHosts, alias, keyLine);
  return {
    ws,
    alias,
    options: [
      ...endpointOptions(ctx, ws),
      ['User', 'wsh'],
      ['IdentityFile', keyPath],
      ['IdentitiesOnly', 'yes'],
      ['UserKnownHostsFile', knownHosts],
      ['GlobalKnownHostsFile', '/dev/null'],
      ['StrictHostKeyChecking', 'yes'],
      ['HostKeyAlias', alias],
      ['SetEnv', `WSH_DEVICE_ID=${ctx.deviceId}`],
      ['ServerAliveInterval', '30'],
      ['LogLevel', 'ERROR'],
    ],
  };
}

/**
 * Everything before running `ssh`: the workspace awake (resumed if
 * suspended), this device's key registered, the connection recorded with the
 * hub, and the host key pinned.
 */
export async function prepareSsh(ctx: CliContext, wsArg: string | undefined): Promise<SshTarget> {
  let ws = await resolveWorkspace(ctx, wsArg);
  if (ws.status === 'SUSPENDED' || ws.status === 'SUSPENDING') {
    if (ws.status === 'SUSPENDED') await ctx.client.startWorkspace(ws.id);
    ws = await waitForStatus(ctx, ws.id, 'READY', 600);
  } else if (ws.status === 'PROVISIONING' || ws.status === 'RESUMING') {
    ws = await waitForStatus(ctx, ws.id, 'READY', 600);
  } else if (ws.status !== 'READY') {
    throw new CliError(`${ws.id} is ${ws.status}; cannot connect`);
  }
  const key = await ensureDeviceKeyRegistered(ctx);
  ws = await ctx.client.connect(ws.id, ctx.deviceId);
  return sshTargetFor(ctx, ws, key.privateKeyPath);
}

export function sshArgs(target: SshTarget): string[] {
  return target.options.flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}
