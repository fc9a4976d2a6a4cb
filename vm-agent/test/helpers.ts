import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll } from 'vitest';
import { type AgentConfig, loadConfig } from '../src/config.js';
import { setLogSink } from '../src/log.js';
import { type RunningAgent, startAgent } from '../src/server.js';

export const run = promisify(execFile);

/** Audit/log lines the in-process agents printed, parsed. */
export const logLines: Record<string, unknown>[] = [];
setLogSink((line) => logLines.push(JSON.parse(line)));

export interface KeyPair {
  file: string;
  publicKey: string;
  privateKey: string;
}

const tempDirs: string[] = [];
// Registered at import, so it runs after the test file's own afterAll hooks (which close agents).
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'vm-agent-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** An ed25519 key made by ssh-keygen, as a device would have. */
export async function makeKey(dir: string, comment: string): Promise<KeyPair> {
  const file = join(dir, `key-${comment}`);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return {
    file,
    publicKey: readFileSync(`${file}.pub`, 'utf8').trim(),
    privateKey: readFileSync(file, 'utf8'),
  };
}

export interface TestAgent extends RunningAgent {
  dir: string;
  home: string;
  knownHosts: string;
  config: AgentConfig;
}

export async function startTestAgent(env: Record<string, string> = {}): Promise<TestAgent> {
  const dir = tempDir();
  const home = join(dir, 'home');
  const config = loadConfig({
    AGENT_PORT: '0',
    AGENT_LISTEN_HOST: '127.0.0.1',
    AGENT_HOME: home,
    SHELL: '/bin/bash',
    ...env,
  });
  const agent = await startAgent(config);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${agent.port} ${agent.hostPublicKey}\n`);
  return {
    ...agent,
    dir,
    home,
    knownHosts,
    config,
    close: async () => {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A laptop's key in a new temporary directory (`local`) and an agent that
 * trusts only that key, as a workspace whose owner has one device.
 */
export async function startAgentForLaptop(
  prefix: string,
): Promise<{ agent: TestAgent; laptop: KeyPair; local: string }> {
  const local = tempDir(prefix);
  const laptop = await makeKey(local, 'laptop');
  const authorized = join(local, 'authorized_keys');
  writeFileSync(authorized, `${laptop.publicKey}\n`);
  const agent = await startTestAgent({ AGENT_AUTHORIZED_KEYS_FILE: authorized });
  return { agent, laptop, local };
}

/** Arguments for the real OpenSSH client: no user config, pinned host key, no prompts. */
export function sshArgs(
  agent: { port: number; knownHosts: string },
  key: KeyPair,
  extra: string[] = [],
): string[] {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(agent.port),
    '-i',
    key.file,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${agent.knownHosts}`,
    '-o',
    'LogLevel=ERROR',
    ...extra,
  ];
}

/** The same options for `scp` and `sftp`, which spell the port -P. */
export function scpArgs(agent: { port: number; knownHosts: string }, key: KeyPair): string[] {
  const args = sshArgs(agent, key).filter((a, i, all) => a !== '-p' && all[i - 1] !== '-p');
  return ['-P', String(agent.port), ...args];
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, feeding `input`, and never rejects. */
export function runProgram(cmd: string, args: string[], input = ''): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A program that exits without reading its input (ssh refused, say) closes the pipe first.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export function ssh(
  agent: { port: number; knownHosts: string },
  key: KeyPair,
  args: string[],
  input = '',
): Promise<CommandResult> {
  return runProgram('ssh', [...sshArgs(agent, key), 'dev@127.0.0.1', ...args], input);
}

/** An ssh2 client connection, the other client the acceptance asks for. */
export function connectSsh2(agent: TestAgent, key: KeyPair): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: agent.port,
      username: 'dev',
      privateKey: key.privateKey,
      hostVerifier: (presented: Buffer) =>
        ssh2.utils.parseKey(agent.hostPublicKey) instanceof Error
          ? false
          : (ssh2.utils.parseKey(agent.hostPublicKey) as ssh2.ParsedKey)
              .getPublicSSH()
              .equals(presented),
    });
  });
}

/** Runs `command` on an ssh2 connection (no pty): its exit code and stdout and stderr together. */
export function execSsh2(
  client: ssh2.Client,
  command: string,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      let code = -1;
      stream.on('data', (d: Buffer) => (out += d));
      stream.stderr.on('data', (d: Buffer) => (out += d));
      stream.on('exit', (c: number) => (code = c));
      stream.on('close', () => resolve({ code, out }));
    });
  });
}

/** Attaches to persistent session `name` (created if missing) with a pty, as a terminal does. */
export function attachSession(client: ssh2.Client, name: string): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) =>
    client.exec(`attach ${name}`, { pty: { rows: 24, cols: 80, term: 'xterm' } }, (err, s) =>
      err ? reject(err) : resolve(s),
    ),
  );
}

/** Collects a channel's output and resolves once `pattern` appears in it. */
export class Screen {
  text = '';
  private waiters: { pattern: RegExp | string; resolve: () => void }[] = [];

  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (d: Buffer) => {
      this.text += d.toString('utf8');
      this.waiters = this.waiters.filter((w) => {
        if (!this.matches(w.pattern)) return true;
        w.resolve();
        return false;
      });
    });
  }

  private matches(pattern: RegExp | string): boolean {
    return typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text);
  }

  waitFor(pattern: RegExp | string): Promise<void> {
    if (this.matches(pattern)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

const AGENT_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface AgentProcess {
  child: ChildProcess;
  out: Screen;
  err: Screen;
}

/** The real `vm-agent` process (src/main.ts through tsx) with only `env` and PATH, HOME, SHELL. */
export function launchAgent(env: Record<string, string>): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', AGENT_MAIN], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SHELL: '/bin/bash', ...env },
    stdio: 'pipe',
  });
  return { child, out: new Screen(child.stdout!), err: new Screen(child.stderr!) };
}

/** Resolves with the process's exit code (at once if it has already exited). */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null
      ? r(child.exitCode)
      : child.on('exit', (code) => r(code)),
  );
}

export interface HubRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A stand-in for the hub: records callbacks, serves keys, can ask for a ready report. */
export class FakeHub {
  readonly requests: HubRequest[] = [];
  keys: { name: string; public_key: string; owner: string }[] = [];
  reportReady = false;
  /** As a metadata server: signs the instance identity token for an audience (else a dummy JWT). */
  signIdentity: ((audience: string) => string) | null = null;
  /** Status codes to answer (in order) before behaving. */
  failures: number[] = [];
  private server: Server;
  url = '';
  private listeners: (() => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = raw ? JSON.parse(raw) : null;
        this.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
        });
        for (const l of this.listeners) l();
        const fail = this.failures.shift();
        if (fail) {
          res.writeHead(fail, { 'content-type': 'application/json' }).end('{"title":"nope"}');
          return;
        }
        res.setHeader('content-type', 'application/json');
        if (req.url === '/agent/authorized-keys')
          return res.end(JSON.stringify({ keys: this.keys }));
        if (req.url === '/agent/heartbeat') {
          const answer = this.reportReady;
          this.reportReady = false;
          return res.end(JSON.stringify({ ok: true, report_ready: answer }));
        }
        if (req.url === '/agent/ready')
          return res.end(JSON.stringify({ ok: true, report_ready: false }));
        if (req.url?.startsWith('/computeMetadata/')) {
          res.setHeader('content-type', 'text/plain');
          const audience = new URL(`http://x${req.url}`).searchParams.get('audience');
          if (this.signIdentity && audience) return res.end(this.signIdentity(audience));
          const exp = Math.floor(Date.now() / 1000) + 3600;
          const payload = Buffer.from(JSON.stringify({ aud: 'hub', exp })).toString('base64url');
          return res.end(`eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln`);
        }
        res.writeHead(404).end('{}');
      });
    });
  }

  async start(port = 0): Promise<void> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  calls(path: string): HubRequest[] {
    return this.requests.filter((r) => r.path.split('?')[0] === path);
  }

  /** Resolves when a request to `path` arrives (counting those already recorded) `count` times. */
  waitFor(path: string, count = 1): Promise<HubRequest[]> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.calls(path).length >= count) {
          this.listeners = this.listeners.filter((l) => l !== check);
          resolve(this.calls(path));
          return true;
        }
        return false;
      };
      if (!check()) this.listeners.push(check);
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
