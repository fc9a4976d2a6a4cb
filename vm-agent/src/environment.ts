import { userInfo } from 'node:os';

/** Variables of the agent itself that must never reach a user's shell (the token is a secret). */
const PRIVATE =
  /^(AGENT_|WORKSPACE_AGENT_TOKEN$|HUB_URL$|GCE_METADATA_HOST$|NODE_OPTIONS$|VITEST|npm_)/;

/** Variables a client may set with `SendEnv`/`env` requests, as sshd's usual AcceptEnv. */
export function acceptsClientEnv(name: string): boolean {
  return (
    name === 'LANG' ||
    name.startsWith('LC_') ||
    name === 'TERM' ||
    name === 'COLORTERM' ||
    name === 'WSH_DEVICE_ID'
  );
}

export interface EnvOptions {
  home: string;
  shell: string;
  secretsDir: string | null;
  clientEnv: Record<string, string>;
  term: string | null;
  extra?: Record<string, string>;
}

export function sessionEnv(o: EnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !PRIVATE.test(k)) env[k] = v;
  let user = env.USER;
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers with arbitrary uids)
  }
  Object.assign(env, {
    HOME: o.home,
    SHELL: o.shell,
    PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: env.LANG ?? 'C.UTF-8',
  });
  if (user) Object.assign(env, { USER: user, LOGNAME: user });
  // Secrets stay on their tmpfs; sessions only learn where it is.
  if (o.secretsDir) env.WORKSPACE_SECRETS_DIR = o.secretsDir;
  Object.assign(env, o.clientEnv, o.extra ?? {});
  if (o.term) env.TERM = o.term;
  else if (!o.clientEnv.TERM) delete env.TERM;
  return env;
}
