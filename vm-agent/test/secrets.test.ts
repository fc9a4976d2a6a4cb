import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  exited,
  FakeHub,
  type KeyPair,
  launchAgent,
  makeKey,
  ssh,
  tempDir,
} from './helpers.js';

const ACCESS_TOKEN = 'ya29.fake-access-token-5b7c';
const GITHUB_TOKEN = 'ghp_S3cr3tV4lue-github-41d9';
/** Not UTF-8, with a NUL and a newline: the file must hold exactly these bytes. */
const BINARY_KEY = Buffer.concat([
  Buffer.from([0x00, 0xff, 0xfe, 0x0a]),
  Buffer.from('bin-canary-7731'),
  Buffer.from([0x80, 0x0d, 0x0a]),
]);
const FLAKY = 'flaky-value-9e1f';
const VALUES = [GITHUB_TOKEN, 'bin-canary-7731', FLAKY];

/** Fresh directories on this machine's tmpfs, removed after the file. */
const shmDirs: string[] = [];
function shmDir(): string {
  const dir = mkdtempSync('/dev/shm/vm-agent-secrets-');
  shmDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of shmDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory on a real disk: under os.tmpdir() unless that is a tmpfs, else in the repository. */
function diskDir(): string {
  const fsType = (dir: string) =>
    execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '-T', dir], { encoding: 'utf8' }).trim();
  if (!['tmpfs', 'ramfs'].includes(fsType(tmpdir()))) return tempDir('vm-agent-disk-secrets-');
  const repo = fileURLToPath(new URL('..', import.meta.url));
  expect(['tmpfs', 'ramfs']).not.toContain(fsType(repo));
  const dir = mkdtempSync(join(repo, '.disk-secrets-'));
  shmDirs.push(dir);
  return dir;
}

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

/** Serves `handle` on 127.0.0.1 and records every request. */
class FakeServer {
  readonly requests: Received[] = [];
  private readonly server: Server;
  host = '';

  constructor(handle: (req: IncomingMessage) => Promise<[number, string]> | [number, string]) {
    this.server = createServer((req, res) => {
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      void Promise.resolve(handle(req)).then(([status, body]) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(body),
      );
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.host = `127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * The GCE metadata server: a token and the project, only for `Metadata-Flavor: Google`.
 * `tokens` are handed out in turn (the last one repeated).
 */
function fakeMetadata(project: string, tokens: string[] = [ACCESS_TOKEN]): FakeServer {
  return new FakeServer((req) => {
    if (req.method !== 'GET' || req.headers['metadata-flavor'] !== 'Google')
      return [403, '{"error":"Missing Metadata-Flavor:Google header"}'];
    if (req.url === '/computeMetadata/v1/instance/service-accounts/default/token')
      return [
        200,
        JSON.stringify({
          access_token: tokens.length > 1 ? tokens.shift() : tokens[0],
          expires_in: 3599,
          token_type: 'Bearer',
        }),
      ];
    if (req.url === '/computeMetadata/v1/project/project-id') return [200, project];
    return [404, 'not found'];
  });
}

type Answer = { status: number } | { data: Buffer };

/**
 * Secret Manager's `versions/latest:access`: answers only a GET with the
 * metadata server's bearer token on the exact path of a known project; each
 * secret has a list of answers, the last one repeated.
 */
function fakeSecretManager(
  project: string,
  secrets: Record<string, Answer[]>,
  gate: Promise<void> = Promise.resolve(),
): FakeServer {
  const path = new RegExp(
    `^/v1/projects/${project}/secrets/([A-Za-z0-9_-]{1,255})/versions/latest:access$`,
  );
  return new FakeServer(async (req) => {
    await gate;
    if (req.method !== 'GET') return [405, '{}'];
    if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`)
      return [401, '{"error":{"code":401}}'];
    const name = path.exec(req.url ?? '')?.[1];
    const answers = name ? secrets[name] : undefined;
    if (!name || !answers) return [404, '{"error":{"code":404,"status":"NOT_FOUND"}}'];
    const answer = (answers.length > 1 ? answers.shift() : answers[0]) as Answer;
    if ('status' in answer) return [answer.status, `{"error":{"code":${answer.status}}}`];
    return [
      200,
      JSON.stringify({
        name: `projects/123456789/secrets/${name}/versions/3`,
        payload: { data: answer.data.toString('base64'), dataCrc32c: '0' },
      }),
    ];
  });
}

/** Log lines the agent printed on stdout, parsed. */
const lines = (agent: AgentProcess): Record<string, unknown>[] =>
  agent.out.text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

async function stop(agent: AgentProcess | undefined): Promise<void> {
  if (!agent || agent.child.exitCode !== null) return;
  agent.child.kill('SIGTERM');
  await exited(agent.child);
}

/**
 * The agent's environment to fetch `names` into `dir`: the project from the metadata server
 * unless given, the token from `metadata`, the secrets from `secretManager`.
 */
function secretsEnv(
  dir: string,
  names: string,
  metadata: { host: string },
  secretManager: { host: string },
  project?: string,
): Record<string, string> {
  return {
    WORKSPACE_SECRETS_DIR: dir,
    WORKSPACE_SECRET_NAMES: names,
    ...(project ? { GOOGLE_CLOUD_PROJECT: project } : {}),
    GCE_METADATA_HOST: metadata.host,
    SECRET_MANAGER_ENDPOINT: `http://${secretManager.host}`,
  };
}

/** Launches the agent with its own home, a pinned host key and the laptop's key allowed. */
async function launch(
  laptop: KeyPair,
  env: Record<string, string>,
): Promise<{ agent: AgentProcess; home: string; knownHosts: (port: number) => string }> {
  const dir = tempDir();
  const hostKey = await makeKey(dir, 'host');
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, `${laptop.publicKey}\n`);
  const home = join(dir, 'home');
  const agent = launchAgent({
    AGENT_PORT: '0',
    AGENT_LISTEN_HOST: '127.0.0.1',
    AGENT_HOME: home,
    AGENT_HOST_KEY_FILE: hostKey.file,
    AGENT_AUTHORIZED_KEYS_FILE: authorized,
    ...env,
  });
  const knownHosts = (port: number) => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `[127.0.0.1]:${port} ${hostKey.publicKey}\n`);
    return file;
  };
  return { agent, home, knownHosts };
}

const portOf = (agent: AgentProcess) =>
  Number(/"message":"ssh server listening","time":"[^"]+","port":(\d+)/.exec(agent.out.text)?.[1]);

let laptop: KeyPair;
beforeAll(async () => {
  laptop = await makeKey(tempDir('vm-agent-keys-'), 'laptop');
});

describe('secrets from Secret Manager', () => {
  let metadata: FakeServer;
  let secretManager: FakeServer;
  let agent: AgentProcess;
  let home: string;
  let port: number;
  let knownHosts: string;
  const dir = shmDir();

  beforeAll(async () => {
    metadata = await fakeMetadata('acme-dev').start();
    secretManager = await fakeSecretManager('acme-dev', {
      'github-token': [{ data: Buffer.from(GITHUB_TOKEN) }],
      binary_key: [{ data: BINARY_KEY }],
      flaky: [{ status: 503 }, { status: 500 }, { data: Buffer.from(FLAKY) }],
      denied: [{ status: 403 }],
      // "missing" is unknown: 404.
    }).start();
    const launched = await launch(laptop, {
      ...secretsEnv(
        dir,
        'github-token,binary_key,denied,bad.name,missing,flaky',
        metadata,
        secretManager,
      ),
    });
    agent = launched.agent;
    home = launched.home;
    await agent.out.waitFor('vm-agent ready');
    port = portOf(agent);
    knownHosts = launched.knownHosts(port);
  });
  afterAll(async () => {
    await stop(agent);
    await metadata?.close();
    await secretManager?.close();
  });

  it('writes each secret, byte for byte, to its own 0600 file owned by the agent user', () => {
    // Only the secrets: no temporary file is left behind, and nothing for the failures.
    expect(readdirSync(dir).sort()).toEqual(['binary_key', 'flaky', 'github-token']);
    expect(readFileSync(join(dir, 'github-token'), 'utf8')).toBe(GITHUB_TOKEN);
    expect(readFileSync(join(dir, 'binary_key')).equals(BINARY_KEY)).toBe(true);
    expect(readFileSync(join(dir, 'flaky'), 'utf8')).toBe(FLAKY);
    for (const name of readdirSync(dir)) {
      const st = statSync(join(dir, name));
      expect(st.mode & 0o777).toBe(0o600);
      expect(st.uid).toBe(process.getuid?.());
    }
  });

  it('asks the metadata server with Metadata-Flavor and Secret Manager with its token, on the exact paths', () => {
    expect(metadata.requests.length).toBeGreaterThan(0);
    for (const r of metadata.requests) expect(r.headers['metadata-flavor']).toBe('Google');
    expect(metadata.requests.map((r) => r.path).sort()).toEqual([
      '/computeMetadata/v1/instance/service-accounts/default/token',
      '/computeMetadata/v1/project/project-id',
    ]);
    for (const r of secretManager.requests) {
      expect(r.method).toBe('GET');
      expect(r.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    }
    const asked = (name: string) =>
      secretManager.requests.filter(
        (r) => r.path === `/v1/projects/acme-dev/secrets/${name}/versions/latest:access`,
      ).length;
    // 5xx is retried; 403 and 404 are not; an invalid id never leaves the agent.
    expect({
      github: asked('github-token'),
      binary: asked('binary_key'),
      flaky: asked('flaky'),
      denied: asked('denied'),
      missing: asked('missing'),
    }).toEqual({ github: 1, binary: 1, flaky: 3, denied: 1, missing: 1 });
    expect(secretManager.requests).toHaveLength(7);
  });

  it('reports a 403 and a 404 once each, by name and with what to check, and sums up in one line', () => {
    const log = lines(agent);
    const about = (name: string) => log.filter((l) => l.severity === 'ERROR' && l.secret === name);
    expect(about('denied')).toEqual([
      expect.objectContaining({
        status: 403,
        message: expect.stringMatching(/denied.*403.*roles\/secretmanager\.secretAccessor/),
      }),
    ]);
    expect(about('missing')).toEqual([
      expect.objectContaining({
        status: 404,
        message: expect.stringMatching(/missing.*404.*exists.*has a version/),
      }),
    ]);
    expect(log).toContainEqual(
      expect.objectContaining({ severity: 'WARNING', secret: 'bad.name' }),
    );
    const summaries = log.filter((l) => l.message === 'workspace secrets');
    expect(summaries).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        dir,
        project: 'acme-dev',
        filesystem: 'tmpfs',
        written: ['github-token', 'binary_key', 'flaky'],
        failed: expect.arrayContaining([
          { name: 'bad.name', reason: 'invalid secret id' },
          expect.objectContaining({ name: 'denied', status: 403 }),
          expect.objectContaining({ name: 'missing', status: 404 }),
        ]),
      }),
    ]);
    expect(summaries[0]?.failed).toHaveLength(3);
    // The summary comes before the ready line.
    expect(agent.out.text.indexOf('"workspace secrets"')).toBeLessThan(
      agent.out.text.indexOf('vm-agent ready'),
    );
  });

  it('lets a session read a secret through the real ssh client', async () => {
    const target = { port, knownHosts };
    const text = await ssh(target, laptop, ['cat "$WORKSPACE_SECRETS_DIR/github-token"']);
    expect(text).toMatchObject({ code: 0, stdout: GITHUB_TOKEN });
    const binary = await ssh(target, laptop, ['base64 -w0 "$WORKSPACE_SECRETS_DIR/binary_key"']);
    expect(Buffer.from(binary.stdout, 'base64').equals(BINARY_KEY)).toBe(true);
  });

  it('never prints a secret value or the access token, nor writes one outside the tmpfs', () => {
    const printed = agent.out.text + agent.err.text;
    for (const secret of [...VALUES, ACCESS_TOKEN, BINARY_KEY.toString('base64')])
      expect(printed).not.toContain(secret);
    expect(printed).not.toContain(Buffer.from(GITHUB_TOKEN).toString('base64'));
    // The agent's other writable place: its home (host key directory, sessions).
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : [],
      );
    for (const file of walk(home)) {
      const content = readFileSync(file, 'latin1');
      for (const secret of VALUES) expect(content, file).not.toContain(secret);
    }
  });
});

describe('a secrets directory that is not a tmpfs', () => {
  it('gets no file, Secret Manager is not asked, and the warning names the directory', async () => {
    const metadata = await fakeMetadata('acme-dev').start();
    const secretManager = await fakeSecretManager('acme-dev', {
      'github-token': [{ data: Buffer.from(GITHUB_TOKEN) }],
    }).start();
    const disk = diskDir();
    // A symlink on the tmpfs pointing at the disk must not pass either.
    const link = join(shmDir(), 'link');
    symlinkSync(disk, link);
    for (const dir of [disk, link]) {
      const { agent } = await launch(laptop, {
        ...secretsEnv(dir, 'github-token', metadata, secretManager, 'acme-dev'),
      });
      await agent.out.waitFor('vm-agent ready');
      await stop(agent);
      const warning = lines(agent).find(
        (l) => l.severity === 'WARNING' && String(l.message).startsWith('not fetching secrets'),
      );
      expect(warning).toMatchObject({
        message: `not fetching secrets into ${dir}: not a tmpfs or ramfs`,
        dir,
        problem: 'not a tmpfs or ramfs',
      });
      expect(warning?.filesystem).not.toMatch(/^(tmpfs|ramfs)$/);
      expect(lines(agent)).toContainEqual(
        expect.objectContaining({
          message: 'workspace secrets',
          written: [],
          failed: [{ name: 'github-token', reason: 'secrets directory not a tmpfs or ramfs' }],
        }),
      );
    }
    expect(readdirSync(disk)).toEqual([]);
    expect(secretManager.requests).toEqual([]);
    expect(metadata.requests).toEqual([]);
    await metadata.close();
    await secretManager.close();
  });
});

describe('start-up order', () => {
  it('listens for ssh while the secrets are fetched, and reports ready to the hub after', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const hub = new FakeHub();
    await hub.start();
    const metadata = await fakeMetadata('ignored').start();
    const secretManager = await fakeSecretManager(
      'other-project',
      { npm_token: [{ data: Buffer.from('npm-value-0c3') }] },
      gate,
    ).start();
    const dir = shmDir();
    const { agent, knownHosts } = await launch(laptop, {
      ...secretsEnv(dir, 'npm_token', metadata, secretManager, 'other-project'),
      HUB_URL: hub.url,
      WORKSPACE_ID: 'ws-abcdefghij',
      WORKSPACE_AGENT_TOKEN: 'local-token',
    });
    try {
      await agent.out.waitFor('ssh server listening');
      while (secretManager.requests.length === 0) await new Promise((r) => setTimeout(r, 50));
      const port = portOf(agent);
      const early = await ssh({ port, knownHosts: knownHosts(port) }, laptop, [
        'ls -A "$WORKSPACE_SECRETS_DIR"; echo up',
      ]);
      expect(early).toMatchObject({ code: 0, stdout: 'up\n' });
      expect(hub.calls('/agent/ready')).toEqual([]);
      expect(agent.out.text).not.toContain('vm-agent ready');

      release();
      await hub.waitFor('/agent/ready');
      expect(readFileSync(join(dir, 'npm_token'), 'utf8')).toBe('npm-value-0c3');
      // GOOGLE_CLOUD_PROJECT set: the metadata server is asked for the token only.
      expect(metadata.requests.map((r) => r.path)).toEqual([
        '/computeMetadata/v1/instance/service-accounts/default/token',
      ]);
    } finally {
      release();
      await stop(agent);
      await hub.close();
      await metadata.close();
      await secretManager.close();
    }
  });
});

describe('retries', () => {
  it('tries an unreachable Secret Manager a few times, reports it, and still comes up', async () => {
    const metadata = await fakeMetadata('acme-dev').start();
    const closed = await fakeSecretManager('acme-dev', {}).start();
    await closed.close(); // its port now refuses connections
    const dir = shmDir();
    const { agent, knownHosts } = await launch(laptop, {
      ...secretsEnv(dir, 'github-token', metadata, closed),
    });
    try {
      await agent.out.waitFor('vm-agent ready');
      const log = lines(agent);
      expect(log.filter((l) => l.secret === 'github-token' && l.severity === 'WARNING')).toEqual(
        [1, 2, 3].map((attempt) =>
          expect.objectContaining({ attempt, error: expect.stringContaining('ECONNREFUSED') }),
        ),
      );
      expect(log).toContainEqual(
        expect.objectContaining({
          message: 'workspace secrets',
          written: [],
          failed: [
            { name: 'github-token', reason: expect.stringMatching(/^network: .*ECONNREFUSED/) },
          ],
        }),
      );
      expect(readdirSync(dir)).toEqual([]);
      const port = portOf(agent);
      const result = await ssh({ port, knownHosts: knownHosts(port) }, laptop, ['echo still-up']);
      expect(result.stdout).toBe('still-up\n');
    } finally {
      await stop(agent);
      await metadata.close();
    }
  });

  it('asks the metadata server for a fresh token when Secret Manager refuses one (401)', async () => {
    const metadata = await fakeMetadata('acme-dev', ['ya29.stale-token', ACCESS_TOKEN]).start();
    const secretManager = await fakeSecretManager('acme-dev', {
      'github-token': [{ data: Buffer.from(GITHUB_TOKEN) }],
    }).start();
    const dir = shmDir();
    const { agent } = await launch(laptop, {
      ...secretsEnv(dir, 'github-token', metadata, secretManager, 'acme-dev'),
    });
    try {
      await agent.out.waitFor('vm-agent ready');
      expect(secretManager.requests.map((r) => r.headers.authorization)).toEqual([
        'Bearer ya29.stale-token',
        `Bearer ${ACCESS_TOKEN}`,
      ]);
      expect(readFileSync(join(dir, 'github-token'), 'utf8')).toBe(GITHUB_TOKEN);
      expect(agent.out.text + agent.err.text).not.toContain('stale-token');
    } finally {
      await stop(agent);
      await metadata.close();
      await secretManager.close();
    }
  });
});
