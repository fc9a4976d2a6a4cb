import { CONTAINER_NAME } from './scripts.js';

export const SCRIPT_DIR = '/etc/workspace-hub';
export const HOME_UNIT = 'workspace-home.service';
export const AGENT_UNIT = 'workspace-agent.service';
export const FIREWALL_UNIT = 'workspace-firewall.service';

/** Units hold no spec values: everything variable lives in the quoted scripts. */
export function homeUnit(): string {
  return `[Unit]
Description=Workspace home disk (format if blank, then mount)
Before=${AGENT_UNIT}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/bash ${SCRIPT_DIR}/mount-home.sh
`;
}

/** As in Google's "Configuring the host firewall" for COS: a oneshot unit the container's unit requires. */
export function firewallUnit(): string {
  return `[Unit]
Description=Workspace agent port in the host firewall (IAP and the hub egress range only)
Before=${AGENT_UNIT}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/bash ${SCRIPT_DIR}/open-agent-port.sh
`;
}

/** Requires the firewall unit: an agent nobody can reach must not report ready. */
export function agentUnit(): string {
  return `[Unit]
Description=Workspace Hub agent container
Requires=docker.service ${HOME_UNIT} ${FIREWALL_UNIT}
After=docker.service ${HOME_UNIT} ${FIREWALL_UNIT} network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
ExecStart=/bin/bash ${SCRIPT_DIR}/run-agent.sh
ExecStop=/usr/bin/docker stop ${CONTAINER_NAME}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}
