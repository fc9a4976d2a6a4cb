import type { TerminalErrorCode, WorkspaceStatus } from '@workspace-hub/core';

/** Why the hub could not reach or use a workspace's agent, in the terminal protocol's codes. */
export class AgentLinkError extends Error {
  constructor(
    readonly code: Extract<
      TerminalErrorCode,
      'workspace_not_ready' | 'agent_unreachable' | 'permission_denied' | 'connection_lost'
    >,
    message: string,
    /** `workspace_not_ready`: the workspace's status. */
    readonly status?: WorkspaceStatus,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AgentLinkError';
  }
}
