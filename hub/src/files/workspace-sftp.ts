import { HubError, type Workspace } from '@workspace-hub/core';
import { AgentLinkError } from '../agent-link/index.js';
import type { Identity } from '../auth/identity.js';
import type { HubDeps } from '../deps.js';
import { loadVisible } from '../routes/access.js';
import { fromSftpError, type SftpCalls, sftpCalls } from './sftp-calls.js';

function notReady(ws: Workspace): HubError {
  return new HubError(
    'workspace_not_ready',
    `workspace ${ws.id} is ${ws.status}; its files can be reached once it is READY${
      ws.status === 'SUSPENDED' ? ' (start it)' : ''
    }`,
    { current_status: ws.status },
  );
}

/** What the hub→agent link reports, as the file API's problems. */
function fromAgentLink(err: AgentLinkError, ws: Workspace): HubError {
  if (err.code === 'workspace_not_ready')
    return notReady({ ...ws, status: err.status ?? ws.status });
  // The agent refusing the hub's own per-connection credential is the hub's failure, not the
  // user's: they may reach this workspace.
  return new HubError(
    'agent_unreachable',
    `the workspace agent: ${err.message}`,
    {},
    { cause: err },
  );
}

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
  if (ws.status !== 'READY') throw notReady(ws);
  return ws;
}

/**
 * An SFTP channel on the workspace's agent, over the hub's pooled SSH connection as the caller
 * (agent-link: the agent confines it to the home and records the user), for `work`. The channel
 * ends when `work` settles, or with `keepOpen` when `work` calls `release` (a streamed body).
 */
export async function withSftp<T>(
  deps: HubDeps,
  identity: Identity,
  id: string,
  work: (calls: SftpCalls, release: () => void) => Promise<T>,
  opts: { keepOpen?: boolean } = {},
): Promise<T> {
  const ws = await readyWorkspace(deps, identity, id);
  const lease = await deps.agentLink
    .lease({ sub: identity.sub, email: identity.email }, ws)
    .catch((err) => {
      throw err instanceof AgentLinkError ? fromAgentLink(err, ws) : err;
    });
  let released = false;
  let end: () => void = () => {};
  const release = () => {
    if (released) return;
    released = true;
    end();
    lease.release();
  };
  try {
    const sftp = await lease.sftp().catch((err) => {
      throw err instanceof AgentLinkError ? fromAgentLink(err, ws) : fromSftpError(err, 'path', '');
    });
    end = () => sftp.end();
    const result = await work(sftpCalls(sftp), release);
    if (!opts.keepOpen) release();
    return result;
  } catch (err) {
    release();
    throw err;
  }
}
