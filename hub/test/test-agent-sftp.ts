import type { Workspace } from '@workspace-hub/core';
import ssh2 from 'ssh2';
import type { Identity } from '../src/auth/identity.js';
import type { AgentSftp } from '../src/files/agent-sftp.js';

/**
 * Stands in for the hub→agent connector in tests: a plain SSH connection to the local agent
 * with a device key the test registered for the caller (`PUT /me/keys`), the agent's host key
 * pinned as clients pin it. One connection per SFTP session.
 */
export function testAgentSftp(privateKeyOf: (email: string) => string): AgentSftp {
  return {
    open: (ws: Workspace, identity: Identity) =>
      new Promise((resolve, reject) => {
        const client = new ssh2.Client();
        const pinned = ws.agent?.host_public_key?.trim().split(/\s+/)[1];
        client
          .on('ready', () =>
            client.sftp((err, sftp) => {
              if (err) {
                client.end();
                return reject(err);
              }
              resolve({ sftp, release: () => client.end() });
            }),
          )
          .on('error', reject)
          .connect({
            host: '127.0.0.1',
            port: ws.agent!.port!,
            username: identity.email,
            privateKey: privateKeyOf(identity.email),
            hostVerifier: (key: Buffer) => key.toString('base64') === pinned,
            readyTimeout: 10_000,
          });
      }),
  };
}
