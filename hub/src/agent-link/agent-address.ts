import type { ComputeDriver, Workspace } from '@workspace-hub/core';
import type { AgentEndpoint } from './agent-connection.js';
import { AgentLinkError } from './agent-link-error.js';

/**
 * Where the hub reaches a READY workspace's agent: the instance's internal IP (GCE:
 * `networkInterfaces[0].networkIP`, through Cloud Run's Direct VPC egress; local: loopback) and
 * the port and host key the agent reported at ready. Read from the instance each time a new
 * connection is made (the pool makes that rare), so a VM given another address is followed.
 */
export async function agentEndpoint(driver: ComputeDriver, ws: Workspace): Promise<AgentEndpoint> {
  if (ws.status !== 'READY' || !ws.agent)
    throw new AgentLinkError(
      'workspace_not_ready',
      `workspace ${ws.id} is ${ws.status}`,
      ws.status,
    );
  const { port, host_public_key: hostPublicKey } = ws.agent;
  if (!port || !hostPublicKey)
    throw new AgentLinkError(
      'agent_unreachable',
      `workspace ${ws.id}'s agent did not report its port and host key; restart the workspace`,
    );
  const instance = await driver.get(ws.zone, ws.instance_name).catch((err: Error) => {
    throw new AgentLinkError(
      'agent_unreachable',
      `cannot read instance ${ws.instance_name}: ${err.message}`,
      undefined,
      { cause: err },
    );
  });
  if (!instance?.internalIp || instance.status !== 'RUNNING')
    throw new AgentLinkError(
      'agent_unreachable',
      `instance ${ws.instance_name} is ${instance ? instance.status : 'gone'}`,
    );
  return {
    host: instance.internalIp,
    port,
    hostPublicKey,
  };
}
