import type { Workspace } from '@workspace-hub/core';
import type { SFTPWrapper } from 'ssh2';
import type { Identity } from '../auth/identity.js';

/** An SFTP session on a workspace's agent, opened for one request. */
export interface SftpSession {
  sftp: SFTPWrapper;
  /** Ends the SFTP channel (the SSH connection under it may be pooled). */
  release(): void;
}

/**
 * Opens the agent's SFTP subsystem as `identity` (the agent confines it to the home and records
 * the user, as for `sftp`). The file routes need nothing else from the hub→agent connection.
 */
export interface AgentSftp {
  open(ws: Workspace, identity: Identity): Promise<SftpSession>;
}
