import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function hasGcloud(): boolean {
  try {
    execFileSync('gcloud', ['version'], {
      stdio: 'ignore',
      env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * An HTTP stand-in for the Compute API that answers 404 and remembers every
 * request, so a test can prove gcloud never looked the instance up (and that
 * nothing went to Google).
 */
export async function startComputeStub(): Promise<{
  url: string;
  requests: string[];
  close(): Promise<void>;
}> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 404, message: 'compute stub: not found' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/compute/v1/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface GcloudTunnel {
  localPort: number;
  /** Everything gcloud wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs the real `gcloud compute start-iap-tunnel` against a relay fake, isolated
 * in a fresh config directory with a throwaway access token, the Compute API
 * pointed at `computeUrl`, and no update checks or usage reporting.
 */
export async function startGcloudTunnel(opts: {
  relayUrl: string;
  token: string;
  computeUrl: string;
  instance: string;
  port: number;
  zone: string;
  project: string;
  verbosity?: 'info' | 'warning';
}): Promise<GcloudTunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'gcloud-iap-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, opts.token, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLOUDSDK_CONFIG: join(dir, 'config'),
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: opts.computeUrl,
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
    CLOUDSDK_CORE_CHECK_GCE_METADATA: 'false',
  };
  const child: ChildProcess = spawn(
    'gcloud',
    [
      'compute',
      'start-iap-tunnel',
      opts.instance,
      String(opts.port),
      '--local-host-port=127.0.0.1:0',
      `--zone=${opts.zone}`,
      `--project=${opts.project}`,
      `--iap-tunnel-url-override=${opts.relayUrl}`,
      '--iap-tunnel-insecure-disable-websocket-cert-check',
      `--verbosity=${opts.verbosity ?? 'info'}`,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const localPort = await new Promise<number>((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Listening on port \[(\d+)\]/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`gcloud exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    localPort,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
