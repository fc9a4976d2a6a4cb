import type { AgentHeartbeatBody, AgentReadyBody, Workspace } from '@workspace-hub/api';
import { HubError } from './errors.js';
import { actionOfOperation } from './events.js';
import { computeDeadline } from './idle.js';
import { parsePublicKey } from './keys/ssh-public-key.js';
import type { WorkspaceStore } from './store/workspace-store.js';

/** What an agent reports at ready (its request without the workspace it names). */
export type AgentReadyReport = Omit<AgentReadyBody, 'workspace_id'>;

/**
 * The agent is up (at boot and after every resume): the workspace is READY,
 * with the agent's host key, version and port, active now. A workspace being
 * suspended or deleted keeps its transition: the agent only raced the
 * shutdown. The write is claimed like a transition's (read, decide,
 * compare-and-set). Returns the workspace as it now is.
 */
export async function recordAgentReady(
  store: WorkspaceStore,
  id: string,
  report: AgentReadyReport,
  opts: { now: Date },
): Promise<Workspace> {
  if (
    report.host_public_key &&
    parsePublicKey(report.host_public_key, 'host_public_key').fingerprint !==
      report.host_key_fingerprint
  )
    throw new HubError('invalid_argument', 'host_public_key: does not match host_key_fingerprint', {
      field: 'host_public_key',
    });
  const now = opts.now.toISOString();
  const r = await store.decideAndSet(id, (ws) => ({
    patch:
      ws.status === 'SUSPENDING' || ws.status === 'DELETING'
        ? null
        : {
            agent: {
              host_key_fingerprint: report.host_key_fingerprint,
              version: report.agent_version,
              ready_at: now,
              port: report.port,
              host_public_key: report.host_public_key ?? null,
            },
            status: 'READY',
            status_reason: null,
            error: null,
            operation: null,
            last_activity_at: now,
            deadline: computeDeadline(opts.now, ws.idle_timeout_minutes).toISOString(),
          },
    value: null,
    // The end of a create or a resume; an agent starting again on a READY workspace changes no state.
    event:
      ws.status === 'READY'
        ? undefined
        : {
            actor: { kind: 'agent' },
            action: ws.operation ? actionOfOperation(ws.operation.kind) : 'reconcile',
            outcome: 'succeeded',
            at: opts.now,
          },
  }));
  return r.written?.workspace ?? r.before;
}

/**
 * Activity the agent saw (terminal input/output, SSH channels, forwarded
 * connections): `last_activity_at` moves forward, never back and never past
 * `now` (an agent's clock may be ahead), and a READY workspace's idle deadline
 * with it. Returns the workspace and whether the agent must report ready again.
 */
export async function recordAgentActivity(
  store: WorkspaceStore,
  id: string,
  report: Pick<AgentHeartbeatBody, 'last_activity_at'>,
  opts: { now: Date },
): Promise<{ workspace: Workspace; reportReady: boolean }> {
  const at = new Date(Math.min(Date.parse(report.last_activity_at), opts.now.getTime()));
  const r = await store.decideAndSet(id, (ws) => ({
    patch:
      at.getTime() <= Date.parse(ws.last_activity_at)
        ? null
        : {
            last_activity_at: at.toISOString(),
            ...(ws.status === 'READY'
              ? { deadline: computeDeadline(at, ws.idle_timeout_minutes).toISOString() }
              : {}),
          },
    value: null,
  }));
  const workspace = r.written?.workspace ?? r.before;
  return { workspace, reportReady: agentMustReportReady(workspace) };
}

/**
 * A resumed agent keeps its memory and does not know it was suspended: while
 * the workspace waits for it (RESUMING, PROVISIONING) and it has not reported
 * since the operation started, the answer to its heartbeat asks it to.
 */
export function agentMustReportReady(ws: Workspace): boolean {
  if (ws.status !== 'RESUMING' && ws.status !== 'PROVISIONING') return false;
  return (
    !ws.agent ||
    (ws.operation !== null && Date.parse(ws.agent.ready_at) < Date.parse(ws.operation.started_at))
  );
}
