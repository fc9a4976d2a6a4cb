import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_STALL_GRACE_MS } from './output-flow.js';

const variable = (description: string) => z.string().optional().describe(description);

/**
 * Every environment variable the agent reads, raw; `loadConfig` reads only
 * through it, and docs/ARCHITECTURE.md's table shows its descriptions
 * (`npm run docs` rewrites it).
 */
export const AgentEnvSchema = z.object({
  AGENT_PORT: variable('SSH port (default 2222; 0 picks a free one).'),
  AGENT_LISTEN_HOST: variable('Address the SSH server listens on (default `0.0.0.0`).'),
  AGENT_HOME: variable('Root of sessions’ working directory and of SFTP (default `$HOME`).'),
  AGENT_HOST_KEY_FILE: variable(
    'Ed25519 host key, created when missing (default `$AGENT_HOME/.vm-agent/ssh_host_ed25519_key`: on the home disk, so the fingerprint survives).',
  ),
  AGENT_AUTHORIZED_KEYS_FILE: variable(
    'An OpenSSH authorized_keys file, for standalone use without a hub.',
  ),
  AGENT_SCROLLBACK_BYTES: variable(
    'Bytes of output each session replays on attach (default 1 MiB).',
  ),
  AGENT_STALLED_CLIENT_SECONDS: variable(
    'Seconds a session waits for a client that stopped taking its output (a sleeping laptop’s tab, a suspended `ssh`) while other clients are attached, before detaching it so the others keep going; it may attach again (default 5; a lone slow client is always waited for).',
  ),
  AGENT_AUDIT_COMMANDS: variable(
    '`1`: log exec’d command lines with their arguments (default `0`: the program’s name only).',
  ),
  AGENT_HEARTBEAT_SECONDS: variable(
    'Most often activity is reported to `/agent/heartbeat`, in seconds (default 60).',
  ),
  AGENT_FORWARD_DENY_PORTS: variable(
    'Comma-separated loopback ports `ssh -L` may not reach (the local driver sets the hub’s and the Firestore emulator’s; default none).',
  ),
  HUB_URL: variable('The hub’s URL for callbacks; unset: no callbacks (needs `WORKSPACE_ID`).'),
  WORKSPACE_ID: variable('This workspace’s id, sent as `X-Workspace-Id` on callbacks.'),
  WORKSPACE_AGENT_TOKEN: variable(
    'Local mode: the per-workspace callback token (on GCE the instance identity token is used).',
  ),
  WORKSPACE_SECRETS_DIR: variable(
    'The secrets tmpfs (`/run/workspace-secrets` on VMs); required with `WORKSPACE_SECRET_NAMES`.',
  ),
  WORKSPACE_SECRET_NAMES: variable(
    'Comma-separated Secret Manager secret ids copied into `WORKSPACE_SECRETS_DIR` before ready.',
  ),
  GOOGLE_CLOUD_PROJECT: variable(
    'Project holding the secrets; unset: asked of the metadata server.',
  ),
  SECRET_MANAGER_ENDPOINT: variable(
    'Secret Manager REST endpoint (default `https://secretmanager.googleapis.com`; a fake in tests).',
  ),
  GCE_METADATA_HOST: variable(
    'Host of the GCE metadata server (default `metadata.google.internal`).',
  ),
  SHELL: variable('Login shell of sessions and exec (default `/bin/bash`).'),
  HOME: variable('Default of `AGENT_HOME`.'),
});
type AgentEnv = z.infer<typeof AgentEnvSchema>;

export interface AgentConfig {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  listenHost: string;
  /** Root of sessions' working directory and of SFTP. */
  home: string;
  hostKeyFile: string;
  authorizedKeysFile: string | null;
  scrollbackBytes: number;
  /** How long a session waits for a stalled client while others are attached, in ms. */
  stalledClientMs: number;
  hubUrl: string | null;
  workspaceId: string | null;
  agentToken: string | null;
  secretsDir: string | null;
  /**
   * Secret Manager secret ids to copy into `secretsDir` at start
   * (`WORKSPACE_SECRET_NAMES`, comma-separated). Kept as given: the fetch
   * reports and skips ids that are not valid, it never stops the agent.
   */
  secretNames: string[];
  /** Project holding the secrets (`GOOGLE_CLOUD_PROJECT`); null: asked of the metadata server. */
  project: string | null;
  /** Secret Manager REST endpoint, without a trailing slash (a fake in tests). */
  secretManagerEndpoint: string;
  auditCommands: boolean;
  /** Loopback ports `direct-tcpip` refuses (local mode: the hub's and the emulator's). */
  forwardDenyPorts: ReadonlySet<number>;
  heartbeatSeconds: number;
  /** Host of the GCE metadata server (overridable for tests). */
  metadataHost: string;
  /** Login shell for sessions and exec; defaults to $SHELL or /bin/bash. */
  shell: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = AgentEnv;

function integer(env: Env, name: keyof Env, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function path(env: Env, name: keyof Env, fallback: string | null): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return isAbsolute(raw) ? raw : resolve(raw);
}

function flag(env: Env, name: keyof Env): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(name, `must be 0 or 1, got "${env[name]}"`);
}

function ports(env: Env, name: keyof Env): ReadonlySet<number> {
  const items = (env[name] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const item of items)
    if (!/^\d{1,5}$/.test(item) || Number(item) < 1 || Number(item) > 65535)
      throw new ConfigError(name, `not a port (1–65535): "${item}"`);
  return new Set(items.map(Number));
}

/** A project id, a legacy domain-scoped one (`example.com:proj`) or a project number. */
const PROJECT = /^(?:(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;

export function isProjectId(value: string): boolean {
  return PROJECT.test(value);
}

function httpUrl(env: Env, name: keyof Env, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL: "${raw}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ConfigError(name, 'must be http(s)');
  if (parsed.username || parsed.password)
    throw new ConfigError(name, 'must not contain credentials');
  if (parsed.search || parsed.hash)
    throw new ConfigError(name, 'must not have a query or fragment');
  return raw.replace(/\/+$/, '');
}

/** Reads and validates the agent's environment; throws ConfigError naming the bad variable. */
export function loadConfig(raw: Record<string, string | undefined> = process.env): AgentConfig {
  const env = AgentEnvSchema.parse(raw);
  const port = integer(env, 'AGENT_PORT', 2222, 0, 65535);
  const home = path(env, 'AGENT_HOME', env.HOME || homedir()) as string;
  const hubUrlRaw = env.HUB_URL?.trim() || null;
  let hubUrl: string | null = null;
  if (hubUrlRaw) {
    let parsed: URL;
    try {
      parsed = new URL(hubUrlRaw);
    } catch {
      throw new ConfigError('HUB_URL', `not a URL: "${hubUrlRaw}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new ConfigError('HUB_URL', 'must be http(s)');
    hubUrl = hubUrlRaw.replace(/\/+$/, '');
  }
  const workspaceId = env.WORKSPACE_ID?.trim() || null;
  if (hubUrl && !workspaceId) throw new ConfigError('WORKSPACE_ID', 'required when HUB_URL is set');
  if (workspaceId && !hubUrl) throw new ConfigError('HUB_URL', 'required when WORKSPACE_ID is set');
  if (workspaceId && !/^[A-Za-z0-9-]{1,63}$/.test(workspaceId))
    throw new ConfigError('WORKSPACE_ID', `malformed: "${workspaceId}"`);
  const secretsDir = path(env, 'WORKSPACE_SECRETS_DIR', null);
  const secretNames = [
    ...new Set(
      (env.WORKSPACE_SECRET_NAMES ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    ),
  ];
  if (secretNames.length > 0 && !secretsDir)
    throw new ConfigError('WORKSPACE_SECRETS_DIR', 'required when WORKSPACE_SECRET_NAMES is set');
  const project = env.GOOGLE_CLOUD_PROJECT?.trim() || null;
  if (project && !isProjectId(project))
    throw new ConfigError('GOOGLE_CLOUD_PROJECT', `not a project id: "${project}"`);
  const listenHost = env.AGENT_LISTEN_HOST?.trim() || '0.0.0.0';
  if (!/^[A-Za-z0-9.:-]+$/.test(listenHost))
    throw new ConfigError('AGENT_LISTEN_HOST', `not a host: "${listenHost}"`);
  return {
    port,
    listenHost,
    home,
    hostKeyFile: path(
      env,
      'AGENT_HOST_KEY_FILE',
      join(home, '.vm-agent', 'ssh_host_ed25519_key'),
    ) as string,
    authorizedKeysFile: path(env, 'AGENT_AUTHORIZED_KEYS_FILE', null),
    scrollbackBytes: integer(env, 'AGENT_SCROLLBACK_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024),
    stalledClientMs:
      integer(env, 'AGENT_STALLED_CLIENT_SECONDS', DEFAULT_STALL_GRACE_MS / 1000, 1, 3600) * 1000,
    hubUrl,
    workspaceId,
    agentToken: env.WORKSPACE_AGENT_TOKEN?.trim() || null,
    secretsDir,
    secretNames,
    project,
    secretManagerEndpoint: httpUrl(
      env,
      'SECRET_MANAGER_ENDPOINT',
      'https://secretmanager.googleapis.com',
    ),
    auditCommands: flag(env, 'AGENT_AUDIT_COMMANDS'),
    forwardDenyPorts: ports(env, 'AGENT_FORWARD_DENY_PORTS'),
    heartbeatSeconds: integer(env, 'AGENT_HEARTBEAT_SECONDS', 60, 1, 3600),
    metadataHost: env.GCE_METADATA_HOST?.trim() || 'metadata.google.internal',
    shell: env.SHELL?.trim() || '/bin/bash',
  };
}
