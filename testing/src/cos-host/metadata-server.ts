import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { googleClaims, type TestSigner } from '../tokens.js';

export interface VmIdentity {
  project: string;
  zone: string;
  instance: string;
  /** The VM's service account: the `email` of its identity tokens. */
  serviceAccount: string;
}

/**
 * The metadata server as one VM sees it, the parts the agent uses: its instance
 * identity token ("Verify VM identity": `audience`, `format=full` adds
 * `google.compute_engine`) signed by `signer` in Google's stead, and the project
 * id. Like the real one it refuses a request without `Metadata-Flavor: Google`.
 */
export async function startMetadataServer(
  vm: VmIdentity,
  signer: TestSigner,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    if (req.headers['metadata-flavor'] !== 'Google') {
      res
        .writeHead(403, { 'content-type': 'text/html' })
        .end('Missing Metadata-Flavor:Google header.');
      return;
    }
    const path = url.pathname.replace(/^\/computeMetadata\/v1\//, '');
    if (path === 'project/project-id') {
      res.writeHead(200, { 'content-type': 'application/text' }).end(vm.project);
      return;
    }
    const audience = url.searchParams.get('audience');
    if (path === 'instance/service-accounts/default/identity' && audience) {
      const full = url.searchParams.get('format') === 'full';
      const token = signer.sign(
        googleClaims(audience, {
          sub: '104242424242424242424',
          azp: '104242424242424242424',
          email: vm.serviceAccount,
          email_verified: true,
          ...(full
            ? {
                google: {
                  compute_engine: {
                    project_id: vm.project,
                    zone: vm.zone,
                    instance_name: vm.instance,
                    instance_id: '4242424242424242424',
                  },
                },
              }
            : {}),
        }),
      );
      res.writeHead(200, { 'content-type': 'text/html' }).end(token);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/html' }).end('Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
