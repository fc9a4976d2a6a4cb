import { shellQuote } from './shell.js';
import type { ResolvedCloudConfigSpec } from './spec.js';

/** The deviceName the gce driver must give the home disk when attaching it. */
export const HOME_DISK_DEVICE_NAME = 'home';
/** GCE exposes an attached disk as `/dev/disk/by-id/google-<deviceName>`. */
export const HOME_DEVICE = `/dev/disk/by-id/google-${HOME_DISK_DEVICE_NAME}`;
export const SECRETS_DIR = '/run/workspace-secrets';
export const CONTAINER_NAME = 'workspace-agent';
/** Where IAP TCP forwarding connects from: the only source the agent's port is opened to. */
export const IAP_TCP_FORWARDING_RANGE = '35.235.240.0/20';
/** Docker keeps its credential-helper config in $HOME, and /root is read-only on COS. */
const DOCKER_CONFIG_HOME = '/home/workspace-hub';

/**
 * Formats the home disk only when blkid positively reports it blank (exit 2):
 * any other blkid failure stops the boot rather than risk wiping a home.
 */
export function mountHomeScript(spec: ResolvedCloudConfigSpec): string {
  return `#!/bin/bash
# Mounts the workspace home disk, formatting it the first time it is seen blank.
set -euo pipefail
device=${shellQuote(HOME_DEVICE)}
mount_path=${shellQuote(spec.homeMountPath)}
owner=${shellQuote(`${spec.uid}:${spec.uid}`)}

if mountpoint -q "$mount_path"; then exit 0; fi
for _ in $(seq 1 60); do
  [ -b "$device" ] && break
  sleep 1
done
if [ ! -b "$device" ]; then
  echo "home disk $device is not attached" >&2
  exit 1
fi

fresh=0
blkid_status=0
blkid -p "$device" >/dev/null || blkid_status=$?
if [ "$blkid_status" -eq 2 ]; then
  mkfs.ext4 -q -m 0 -L workspace-home -E lazy_itable_init=0,lazy_journal_init=0,discard "$device"
  fresh=1
elif [ "$blkid_status" -ne 0 ]; then
  echo "blkid failed ($blkid_status) on $device; refusing to format it" >&2
  exit 1
fi

fsck_status=0
e2fsck -p "$device" || fsck_status=$?
if [ "$fsck_status" -ge 4 ]; then
  echo "e2fsck could not repair $device ($fsck_status)" >&2
  exit 1
fi

mkdir -p "$mount_path"
mount -t ext4 -o defaults,discard "$device" "$mount_path"
if [ "$fresh" -eq 1 ]; then
  chown "$owner" "$mount_path"
  chmod 0755 "$mount_path"
fi
`;
}

/**
 * COS's host firewall drops inbound TCP except SSH (22), and a container on the
 * host network gets no rule from docker; iptables rules live in memory, so this
 * runs on every boot. Inserted first, so it counts whatever COS's INPUT chain
 * ends with; checked first, so a restart of the unit adds no duplicate.
 */
export function openAgentPortScript(spec: ResolvedCloudConfigSpec): string {
  const sources = [IAP_TCP_FORWARDING_RANGE, ...spec.agentSourceRanges];
  const rules = sources.map((source) =>
    ['INPUT', '-p', 'tcp', '-s', source, '--dport', String(spec.agentPort), '-j', 'ACCEPT']
      .map(shellQuote)
      .join(' '),
  );
  return `#!/bin/bash
# Opens the agent's SSH port to IAP TCP forwarding (and the hub's VPC egress range, when set),
# and to nothing else.
set -euo pipefail
open() {
  if ! iptables -w -C "$@" 2>/dev/null; then
    iptables -w -I "$@"
  fi
}
${rules.map((r) => `open ${r}`).join('\n')}
`;
}

/** Environment the agent container gets: identities and names only, never a secret value. */
export function agentEnvironment(spec: ResolvedCloudConfigSpec): Array<[string, string]> {
  const home = `/home/${spec.username}`;
  const env: Array<[string, string]> = [
    ['WORKSPACE_ID', spec.workspaceId],
    ['HUB_URL', spec.hubUrl],
    ['AGENT_PORT', String(spec.agentPort)],
    ['AGENT_HOME', home],
    ['AGENT_HOST_KEY_FILE', `${home}/.workspace-hub/ssh_host_ed25519_key`],
    ['WORKSPACE_USER', spec.username],
    ['WORKSPACE_UID', String(spec.uid)],
    ['WORKSPACE_SECRETS_DIR', SECRETS_DIR],
  ];
  if (spec.secretNames.length > 0) {
    env.push(['WORKSPACE_SECRET_NAMES', spec.secretNames.join(',')]);
  }
  // Without it the agent asks the metadata server (project/project-id).
  if (spec.projectId) env.push(['GOOGLE_CLOUD_PROJECT', spec.projectId]);
  return env;
}

/**
 * Every interpolated value is one single-quoted word, so nothing from the
 * spec is ever parsed by the shell. The script runs under systemd rather than
 * putting the command in ExecStart, which has its own `$` and `%` expansion.
 */
export function runAgentScript(spec: ResolvedCloudConfigSpec, registryHost: string): string {
  const home = `/home/${spec.username}`;
  const tmpfsOptions = `size=${spec.secretsTmpfsMiB}m,mode=0700,uid=${spec.uid},gid=${spec.uid},nosuid,nodev,noexec`;
  const dockerArgs = [
    'run',
    '--rm',
    `--name=${CONTAINER_NAME}`,
    '--init',
    '--network=host',
    '--log-driver=gcplogs',
    `--mount=type=bind,src=${spec.homeMountPath},dst=${home}`,
    `--mount=type=bind,src=${SECRETS_DIR},dst=${SECRETS_DIR}`,
    ...agentEnvironment(spec).map(([name, value]) => `--env=${name}=${value}`),
    spec.image,
  ];
  return `#!/bin/bash
# Runs the workspace agent container; systemd restarts it when it fails.
set -euo pipefail
secrets_dir=${shellQuote(SECRETS_DIR)}
mkdir -p "$secrets_dir"
# Secrets live in memory only: a tmpfs the agent fills from Secret Manager.
if ! mountpoint -q "$secrets_dir"; then
  mount -t tmpfs -o ${shellQuote(tmpfsOptions)} tmpfs "$secrets_dir"
fi

export HOME=${shellQuote(DOCKER_CONFIG_HOME)}
mkdir -p "$HOME"
docker-credential-gcr configure-docker ${shellQuote(`--registries=${registryHost}`)}

docker rm -f ${shellQuote(CONTAINER_NAME)} >/dev/null 2>&1 || true
exec docker \\
${dockerArgs.map((arg) => `  ${shellQuote(arg)}`).join(' \\\n')}
`;
}
