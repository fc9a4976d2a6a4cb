import { HubError, type Workspace } from '@workspace-hub/core';
import type { Identity } from '../auth/identity.js';
import type { HubDeps } from '../deps.js';
import { loadVisible } from '../routes/access.js';
import { fromSftpError, type SftpCalls, sftpCalls } from './sftp-calls.js';

/**
 * The workspace if the caller may see it (another user's: 404) and its agent can serve files:
 * a workspace not READY is `workspace_not_ready` with its status, before any connection.
 */
export async function readyWorkspace(
  deps: HubDeps,
  identity: Identity,
  id: string,
): Promise<Workspace> {
  const ws = await loadVisible(deps.store, identity, id);
  if (ws.status !== 'READY' || !ws.agent?.port)
    throw new HubError(
      'workspace_not_ready',
      `workspace ${id} is ${ws.status}; its files can be reached once it is READY${
        ws.status === 'SUSPENDED' ? ' (start it)' : ''
      }`,
      { current_status: ws.status },
    );
  return ws;
}

/** An SFTP session on the workspace's agent for `work`, released when `work` settles. */
export async function withSftp<T>(
  deps: HubDeps,
  identity: Identity,
  id: string,
  work: (calls: SftpCalls, release: () => void) => Promise<T>,
  opts: { keepOpen?: boolean } = {},
): Promise<T> {
  const ws = await readyWorkspace(deps, identity, id);
  const session = await deps.agentSftp.open(ws, identity).catch((err) => {
    throw err instanceof HubError ? err : fromSftpError(err, 'path', '');
  });
  let released = false;
  const release = () => {
    if (!released) {
      released = true;
      session.release();
    }
  };
  try {
    return await work(sftpCalls(session.sftp), release);
  } catch (err) {
    release();
    throw err;
  } finally {
    if (!opts.keepOpen) release();
  }
}
