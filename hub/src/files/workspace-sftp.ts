import { HubError, type Workspace } from '@workspace-hub/core';
import { AgentLinkError } from '../agent-link/index.js';
import type { Identity } from '../auth/identity.js';
import type { HubDeps } from '../deps.js';
import { loadVisible } from '../routes/access.js';
import { fromSftpError, type SftpCalls, sftpCalls } from './sftp-calls.js';
import { SftpChannels } from './sftp-channels.js';

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

const channelsByLink = new WeakMap<HubDeps['agentLink'], SftpChannels>();

/**
 * An SFTP channel on the workspace's agent, over the hub's pooled SSH connection as the caller
 * (agent-link: the agent confines it to the home and records the user), for `work`. The channel
 * is given back when `work` settles, or with `keepOpen` when `work` calls `release` (a streamed
 * body).
 */
export async function withSftp<T>(
  deps: HubDeps,
  identity: Identity,
  id: string,
  work: (calls: SftpCalls, release: () => void) => Promise<T>,
  opts: { keepOpen?: boolean } = {},
): Promise<T> {
  const ws = await readyWorkspace(deps, identity, id);
  let channels = channelsByLink.get(deps.agentLink);
  if (!channels) {
    channels = new SftpChannels(deps.agentLink);
    channelsByLink.set(deps.agentLink, channels);
  }
  const { sftp, give } = await channels
    .take({ sub: identity.sub, email: identity.email }, ws)
    .catch((err) => {
      throw err instanceof AgentLinkError ? fromAgentLink(err, ws) : fromSftpError(err, 'path', '');
    });
  try {
    const result = await work(sftpCalls(sftp), give);
    if (!opts.keepOpen) give();
    return result;
  } catch (err) {
    give();
    throw err;
  }
}
