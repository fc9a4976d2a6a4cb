import { type AgentTokenStore, type ProvisionDeps, workspaceImage } from '@workspace-hub/core';
import type { HubConfig } from './config.js';

/**
 * What the driver needs beyond the document: the workspace image, the
 * cloud-init user-data (GCE), and locally the agent's one-time token, whose
 * hash alone is stored.
 */
export function buildInstanceExtras(
  config: HubConfig,
  tokens: AgentTokenStore,
): ProvisionDeps['instanceExtras'] {
  return async (ws) => {
    const image = workspaceImage(config.workspaceImage.repository, ws.image_tag);
    if (config.HUB_DRIVER === 'local') {
      // The local driver runs the agent directly; there is no VM to configure.
      return {
        image,
        userData: '#cloud-config\n{}\n',
        agentEnv: { WORKSPACE_AGENT_TOKEN: await tokens.issue(ws.id) },
      };
    }
    // The renderer (and yaml) loads with the first create, not at the hub's cold start.
    const { renderCloudConfig } = await import('@workspace-hub/cloud-init');
    return {
      image,
      userData: renderCloudConfig({
        workspaceId: ws.id,
        hubUrl: config.HUB_URL!,
        image,
        agentPort: config.HUB_AGENT_PORT,
        agentSourceRanges: config.HUB_EGRESS_RANGES,
        secretNames: config.HUB_WORKSPACE_SECRET_NAMES,
        projectId: ws.project_id,
      }),
    };
  };
}
