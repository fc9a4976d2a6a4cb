import { HubError } from '@workspace-hub/core';
import type { AgentSftp } from './agent-sftp.js';

/** Until the hub→agent SSH connector is wired in: every file request says so. */
export const noAgentConnector: AgentSftp = {
  open: async () => {
    throw new HubError('agent_unreachable', 'this hub cannot connect to workspace agents yet');
  },
};
