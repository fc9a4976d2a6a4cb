import { clientEnv } from '../env.js';
import { devTokenProvider, googleIdTokenProvider, type TokenProvider } from '../sdk/auth.js';
import { HubClient } from '../sdk/hub-client.js';
import { CliConfig, type HubEntry } from './config.js';
import { CliError } from './errors.js';

export interface GlobalFlags {
  hub?: string;
  json?: boolean;
}

/** Everything a command needs: the hub it talks to, how, and this device. */
export interface CliContext {
  config: CliConfig;
  hubName: string;
  hub: HubEntry;
  client: HubClient;
  /** The bearer token the client sends: `dev:<email>` on local hubs, else a Google ID token. */
  token: TokenProvider;
  /** The dev identity (local hubs), or null when Google credentials are used. */
  devEmail: string | null;
  /**
   * How ssh reaches agents: straight to 127.0.0.1 (local hubs, the default with a dev
   * identity) or through the IAP tunnel (real hubs). `WSH_TRANSPORT=direct|iap` overrides.
   */
  local: boolean;
  deviceId: string;
  json: boolean;
}

export function hubNameOf(url: string): string {
  return new URL(url).host;
}

function normaliseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u.toString().replace(/\/+$/, '');
  } catch {
    throw new CliError(`--hub: not a hub URL or a known hub name: ${url}`);
  }
}

/** Picks the hub: `--hub` (name or URL), then `WSH_HUB`, then the one last logged in to. */
export function resolveHub(config: CliConfig, flag?: string): { name: string; entry: HubEntry } {
  const file = config.read();
  const wanted = flag ?? clientEnv().WSH_HUB;
  if (wanted) {
    const named = file.hubs[wanted];
    if (named) return { name: wanted, entry: named };
    const url = normaliseUrl(wanted);
    const known = Object.entries(file.hubs).find(([, h]) => h.url === url);
    if (known) return { name: known[0], entry: known[1] };
    return { name: hubNameOf(url), entry: { url, dev_email: null } };
  }
  const current = file.current ? file.hubs[file.current] : undefined;
  if (file.current && current) return { name: file.current, entry: current };
  throw new CliError('no hub: run `wsh login --hub URL` or set WSH_HUB');
}

function transportOf(devIdentity: boolean): 'direct' | 'iap' {
  const forced = clientEnv().WSH_TRANSPORT;
  if (forced === 'direct' || forced === 'iap') return forced;
  if (forced) throw new CliError(`WSH_TRANSPORT: must be direct or iap, not ${forced}`);
  return devIdentity ? 'direct' : 'iap';
}

/**
 * A Google ID token for the hub; when there is none and the hub takes dev identities (its
 * `/health` says `auth: dev`, as `npm start`'s does), a failure that says how to give one,
 * not how to sign in to Google.
 */
function googleTokenOrDevHint(url: string): TokenProvider {
  const google = googleIdTokenProvider(url);
  return () =>
    google().catch(async (err: unknown) => {
      const health = await new HubClient({ url, token: async () => '' }).health().catch(() => null);
      if (health?.auth !== 'dev') throw err;
      throw new CliError(
        `${url} is a local hub: it takes any email as your identity: set WSH_DEV_EMAIL or run \`wsh login --hub ${url} --dev EMAIL\``,
      );
    });
}

export function createContext(flags: GlobalFlags): CliContext {
  const config = new CliConfig();
  const { name, entry } = resolveHub(config, flags.hub);
  const devEmail = clientEnv().WSH_DEV_EMAIL || entry.dev_email;
  const token = devEmail ? devTokenProvider(devEmail) : googleTokenOrDevHint(entry.url);
  const deviceId = config.deviceId();
  return {
    config,
    hubName: name,
    hub: entry,
    client: new HubClient({ url: entry.url, token, deviceId }),
    token,
    devEmail: devEmail || null,
    local: transportOf(Boolean(devEmail)) === 'direct',
    deviceId,
    json: Boolean(flags.json),
  };
}
