import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalDriver } from '@workspace-hub/core';
import type { DriverFactory, HubConfig } from '@workspace-hub/hub';

/** The vm-agent's entry point, found as a package (never by a path relative to this one). */
export function agentMain(): string {
  return fileURLToPath(import.meta.resolve('@workspace-hub/vm-agent/main'));
}

export function hubUrlOf(config: HubConfig): string {
  return config.HUB_URL ?? `http://127.0.0.1:${config.PORT}`;
}

/**
 * The loopback ports of the hub and the Firestore emulator: in local mode a
 * workspace's `ssh -L` would otherwise reach them on the developer's machine.
 */
export function localServicePorts(config: HubConfig): number[] {
  const ports = new Set([config.PORT]);
  const hubPort = new URL(hubUrlOf(config)).port;
  if (hubPort) ports.add(Number(hubPort));
  const emulatorPort = /:(\d+)$/.exec(config.FIRESTORE_EMULATOR_HOST ?? '')?.[1];
  if (emulatorPort) ports.add(Number(emulatorPort));
  return [...ports];
}

/** Workspaces as vm-agent processes on this machine, their folders under HUB_DATA_DIR. */
export const localDriver: DriverFactory = ({ config, agentTokens }) =>
  new LocalDriver({
    dataDir: resolve(config.HUB_DATA_DIR),
    agentCommand: [process.execPath, agentMain()],
    hubUrl: hubUrlOf(config),
    forwardDenyPorts: localServicePorts(config),
    agentEnvFor: async (id) => ({ WORKSPACE_AGENT_TOKEN: await agentTokens.issue(id) }),
  });
