import ssh2 from 'ssh2';
import { AgentLinkError } from './agent-link-error.js';
import { connectCoalesced } from './coalesced-socket.js';
import { pinnedHostKey } from './host-key-pin.js';

export interface AgentEndpoint {
  host: string;
  port: number;
  /** The agent's host key as it reported it at ready: the only one accepted. */
  hostPublicKey: string;
}

export interface AgentConnectionOptions {
  /** Who the agent records (its audit log, `sessions`' devices): the user's email. */
  username: string;
  privateKey: string;
  readyTimeoutMs: number;
}

/** The SSH transport keeps a silent link alive and notices a dead one (Cloud Run, VPC NAT). */
const KEEPALIVE_MS = 15_000;

/** One authenticated SSH connection to an agent, or an AgentLinkError saying why not. */
export function openAgentConnection(
  endpoint: AgentEndpoint,
  opts: AgentConnectionOptions,
): Promise<ssh2.Client> {
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    const fail = (err: Error & { level?: string }) => {
      client.removeAllListeners('ready');
      client.end();
      reject(classify(err, endpoint));
    };
    client.once('ready', () => {
      client.removeListener('error', fail);
      // Later errors end the connection; its users see `close`.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', fail);
    client.connect({
      sock: connectCoalesced(endpoint.host, endpoint.port),
      username: opts.username,
      privateKey: opts.privateKey,
      hostVerifier: pinnedHostKey(endpoint.hostPublicKey),
      readyTimeout: opts.readyTimeoutMs,
      keepaliveInterval: KEEPALIVE_MS,
      keepaliveCountMax: 3,
    });
  });
}

function classify(err: Error & { level?: string }, endpoint: AgentEndpoint): AgentLinkError {
  const where = `${endpoint.host}:${endpoint.port}`;
  if (err.level === 'client-authentication')
    return new AgentLinkError(
      'permission_denied',
      'the agent refused the hub’s credential',
      undefined,
      { cause: err },
    );
  if (/host denied|verification failed/i.test(err.message))
    return new AgentLinkError(
      'agent_unreachable',
      `the agent at ${where} did not present the host key it reported at ready`,
      undefined,
      { cause: err },
    );
  return new AgentLinkError(
    'agent_unreachable',
    `cannot reach the agent at ${where}: ${err.message}`,
    undefined,
    { cause: err },
  );
}
