import { stringify } from 'yaml';
import { mountHomeScript, openAgentPortScript, runAgentScript } from './scripts.js';
import { artifactRegistryHost, type CloudConfigSpec, parseCloudConfigSpec } from './spec.js';
import {
  AGENT_UNIT,
  agentUnit,
  FIREWALL_UNIT,
  firewallUnit,
  HOME_UNIT,
  homeUnit,
  SCRIPT_DIR,
} from './units.js';

/**
 * The `#cloud-config` user-data for a workspace VM on Container-Optimized OS.
 * Throws CloudConfigSpecError naming the field when the spec is invalid.
 */
export function renderCloudConfig(spec: CloudConfigSpec): string {
  const resolved = parseCloudConfigSpec(spec);
  const registryHost = artifactRegistryHost(resolved.image);
  // COS keeps only /etc, /var, /home and /mnt/stateful_partition writable, so units and scripts go in /etc.
  const config = {
    write_files: [
      {
        path: `${SCRIPT_DIR}/mount-home.sh`,
        permissions: '0755',
        owner: 'root:root',
        content: mountHomeScript(resolved),
      },
      {
        path: `${SCRIPT_DIR}/run-agent.sh`,
        permissions: '0755',
        owner: 'root:root',
        content: runAgentScript(resolved, registryHost),
      },
      {
        path: `${SCRIPT_DIR}/open-agent-port.sh`,
        permissions: '0755',
        owner: 'root:root',
        content: openAgentPortScript(resolved),
      },
      {
        path: `/etc/systemd/system/${HOME_UNIT}`,
        permissions: '0644',
        owner: 'root:root',
        content: homeUnit(),
      },
      {
        path: `/etc/systemd/system/${FIREWALL_UNIT}`,
        permissions: '0644',
        owner: 'root:root',
        content: firewallUnit(),
      },
      {
        path: `/etc/systemd/system/${AGENT_UNIT}`,
        permissions: '0644',
        owner: 'root:root',
        content: agentUnit(),
      },
    ],
    // Argument lists, not strings: cloud-init runs them without a shell.
    runcmd: [
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'start', AGENT_UNIT],
    ],
  };
  return `#cloud-config\n${stringify(config, { blockQuote: 'literal', lineWidth: 0 })}`;
}
