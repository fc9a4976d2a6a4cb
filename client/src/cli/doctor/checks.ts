import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Workspace } from '@workspace-hub/api';
import { HubApiError } from '../../sdk/errors.js';
import type { CliContext } from '../context.js';
import { WSH_VERSION } from '../version.js';
import type { Step } from './step.js';

const BANNER_TIMEOUT_MS = 15_000;

/** The token every call carries: without one even `/health` is refused by Cloud Run. */
export function credentialsStep(ctx: CliContext): Step {
  return {
    name: 'credentials',
    async run() {
      await ctx.token();
      return {
        detail: ctx.devEmail
          ? `dev identity ${ctx.devEmail} (local hubs only)`
          : `a Google ID token for ${ctx.hub.url}`,
      };
    },
    hint: () =>
      '`gcloud auth login` (a user account), or GOOGLE_APPLICATION_CREDENTIALS naming a service account key; on a local hub, `wsh login --dev EMAIL`',
  };
}

/** Why the hub answered as it did: Cloud Run's front door or the hub itself. */
function hubHint(err: unknown, url: string): string {
  if (err instanceof HubApiError) {
    if (err.status === 0)
      return `nothing answers at ${url}: check the URL (terraform output hub_url) and your network or proxy`;
    if (err.status === 401 || err.status === 403)
      return 'Cloud Run refused the call before the hub: your account needs roles/run.invoker on the service (terraform team_members), and a Google identity (gcloud auth application-default login)';
    return `the hub answered HTTP ${err.status}: read its logs (Cloud Run service logs)`;
  }
  return `${url} does not answer like a Workspace Hub: check the URL (terraform output hub_url)`;
}

export function hubStep(ctx: CliContext): Step {
  return {
    name: 'hub',
    async run() {
      const health = await ctx.client.health();
      return { detail: `${ctx.hub.url} answers, hub ${health.version}, wsh ${WSH_VERSION}` };
    },
    hint: (err) => hubHint(err, ctx.hub.url),
  };
}

export function identityStep(ctx: CliContext): Step {
  return {
    name: 'identity',
    async run() {
      const me = await ctx.client.me();
      return { detail: `${me.email}${me.admin ? ' (admin)' : ' (not an admin)'}` };
    },
    hint(err) {
      if (err instanceof HubApiError && err.status === 403)
        return 'the hub does not let this account in: an admin adds it to allowed_users or allowed_domains (HUB_ALLOWED_USERS / HUB_ALLOWED_DOMAINS)';
      if (err instanceof HubApiError && err.status === 401)
        return 'the hub refused the token: run `gcloud auth application-default login` (or `wsh login --dev EMAIL` on a local hub), and check the hub URL is the token audience (HUB_URL)';
      return 'get Google credentials: `gcloud auth application-default login`, a service account, or the metadata server';
    },
  };
}

/** The device key must exist and be registered for `wsh ssh`, which does both itself: a warning. */
export function deviceKeyStep(ctx: CliContext): Step {
  return {
    name: 'device key',
    async run() {
      const path = ctx.config.path('id_ed25519.pub');
      if (!existsSync(path))
        return {
          status: 'warn',
          detail: `no key for device ${ctx.deviceId} yet`,
          hint: '`wsh keys` (or the first `wsh ssh`) makes and registers one',
        };
      const local = readFileSync(path, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
      const registered = await ctx.client.getKey(ctx.deviceId);
      if (!registered)
        return {
          status: 'warn',
          detail: `${path} exists but the hub has no key for device ${ctx.deviceId}`,
          hint: '`wsh keys` registers it',
        };
      if (registered.public_key.split(/\s+/).slice(0, 2).join(' ') !== local)
        return {
          status: 'warn',
          detail: `the hub holds another key for device ${ctx.deviceId} (${registered.fingerprint})`,
          hint: '`wsh keys` registers this one in its place',
        };
      return { detail: `device ${ctx.deviceId}, ${registered.fingerprint}, registered` };
    },
    hint: () => 'the hub could not list your keys: see the detail',
  };
}

/** Reads the first line the server sends: an SSH server announces itself at once. */
function firstLine(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => finish(new Error(`no SSH banner within ${BANNER_TIMEOUT_MS / 1000}s`)),
      BANNER_TIMEOUT_MS,
    );
    const finish = (err?: Error) => {
      clearTimeout(timer);
      stream.destroy();
      if (err) reject(err);
      else resolve(text.split(/\r?\n/)[0]!);
    };
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\n')) finish();
    });
    stream.on('error', (err) => finish(err));
    stream.on('close', () => finish(new Error(`the connection closed before a banner: ${text}`)));
  });
}

/** Opens the way `wsh ssh` goes (IAP, or loopback on local hubs) and reads the agent's banner. */
export async function agentBanner(ctx: CliContext, ws: Workspace): Promise<string> {
  let stream: Duplex;
  if (ctx.local) {
    const port = ws.agent?.port;
    if (!port) throw new Error(`${ws.id}: the hub has no agent port for it`);
    stream = connect(port, '127.0.0.1');
  } else {
    // Loaded only here: the tunnel and Google's auth library are not needed by the other checks.
    const { openIapTunnel } = await import('../../iap-tunnel/index.js');
    const { iapTarget } = await import('../ssh-target.js');
    stream = await openIapTunnel(iapTarget(ws));
  }
  const banner = await firstLine(stream);
  if (!banner.startsWith('SSH-2.0-'))
    throw new Error(`expected an SSH banner, got ${JSON.stringify(banner.slice(0, 80))}`);
  return banner;
}

/** What to check when the way to an agent fails: IAP's permission, the firewall, the agent. */
export function tunnelHint(ctx: CliContext, ws: Pick<Workspace, 'id' | 'agent'>, err: unknown) {
  const port = ws.agent?.port ?? 2222;
  if (ctx.local)
    return `the agent of ${ws.id} should listen on 127.0.0.1:${port}: see the hub's output, \`wsh status ${ws.id}\``;
  const code = (err as { code?: unknown }).code;
  if (code === 401 || code === 4010)
    return 'your access token was refused: `gcloud auth application-default login` (or CLOUDSDK_AUTH_ACCESS_TOKEN_FILE)';
  if (code === 403 || code === 4033)
    return 'your account needs roles/iap.tunnelResourceAccessor on the project (terraform team_members)';
  if (code === 4047) return `the instance is gone: \`wsh status ${ws.id}\``;
  return `a firewall rule must let 35.235.240.0/20 reach TCP ${port} (terraform creates SERVICE-allow-iap-agent on its network), and the agent must run: \`wsh status ${ws.id}\`, the VM's serial console`;
}

/** Probes the way to a READY workspace's agent, if the caller has one; else says how to test it. */
export function tunnelStep(ctx: CliContext): Step {
  let ws: Workspace | undefined;
  return {
    name: 'tunnel',
    async run() {
      for await (const w of ctx.client.allWorkspaces({ status: 'READY' })) {
        ws = w;
        break;
      }
      const how = ctx.local ? 'loopback' : 'IAP';
      if (!ws)
        return {
          status: 'skip',
          detail: `no READY workspace to reach through ${how}`,
          hint: '`wsh doctor --full` creates one and connects to it',
        };
      const banner = await agentBanner(ctx, ws);
      return { detail: `${ws.id} port ${ws.agent?.port ?? 2222} through ${how}: ${banner}` };
    },
    hint: (err) => (ws ? tunnelHint(ctx, ws, err) : 'the hub could not list your workspaces'),
  };
}
