import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectSsh2,
  type KeyPair,
  logLines,
  runProgram,
  scpArgs,
  sshArgs,
  startAgentForLaptop,
  startTestAgent,
  type TestAgent,
} from './helpers.js';

let agent: TestAgent;
let laptop: KeyPair;
let local: string;

beforeAll(async () => {
  ({ agent, laptop, local } = await startAgentForLaptop('vm-agent-local-'));
  symlinkSync('/etc', join(agent.home, 'etc-link'));
  mkdirSync(join(agent.home, 'project'));
  writeFileSync(join(agent.home, 'project', 'notes.txt'), 'inside\n');
});

afterAll(() => agent?.close());

/** Runs an sftp batch (`-b -`): a failing command makes sftp exit non-zero. */
function sftp(batch: string) {
  return runProgram('sftp', [...scpArgs(agent, laptop), '-b', '-', 'dev@127.0.0.1'], batch);
}

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

describe('sftp', () => {
  it('round-trips a 10 MB file with an identical hash', async () => {
    const original = randomBytes(10 * 1024 * 1024);
    writeFileSync(join(local, 'big.bin'), original);
    const put = await sftp(
      `mkdir uploads\nput ${join(local, 'big.bin')} uploads/big.bin\nrename uploads/big.bin uploads/moved.bin\nget uploads/moved.bin ${join(local, 'back.bin')}\nls -l uploads\n`,
    );
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(put.stdout).toContain('moved.bin');
    expect(sha256(readFileSync(join(agent.home, 'uploads', 'moved.bin')))).toBe(sha256(original));
    expect(sha256(readFileSync(join(local, 'back.bin')))).toBe(sha256(original));
    const cleanup = await sftp('rm uploads/moved.bin\nrmdir uploads\n');
    expect(cleanup.code).toBe(0);
    expect(readdirSync(agent.home)).not.toContain('uploads');
  });

  it('takes a WRITE of 255 KiB in one request (the hub sends its uploads that long)', async () => {
    const client = await connectSsh2(agent, laptop);
    try {
      const channel = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
        client.sftp((err, s) => (err ? reject(err) : resolve(s))),
      );
      // ssh2 would cut the write at 31,952 bytes for a server that announces no limits.
      (channel as unknown as { _maxWriteLen: number })._maxWriteLen = 255 * 1024;
      const data = randomBytes(255 * 1024);
      const handle = await new Promise<Buffer>((resolve, reject) =>
        channel.open('long-write.bin', 'w', (err, h) => (err ? reject(err) : resolve(h))),
      );
      await new Promise<void>((resolve, reject) =>
        channel.write(handle, data, 0, data.length, 0, (err) => (err ? reject(err) : resolve())),
      );
      await new Promise<void>((resolve, reject) =>
        channel.close(handle, (err) => (err ? reject(err) : resolve())),
      );
      expect(sha256(readFileSync(join(agent.home, 'long-write.bin')))).toBe(sha256(data));
    } finally {
      client.end();
    }
  });

  it('creates symlinks inside the home and follows them', async () => {
    const result = await sftp(
      `ln -s project/notes.txt alias.txt\nget alias.txt ${join(local, 'alias.txt')}\n`,
    );
    expect(result.code).toBe(0);
    expect(readFileSync(join(local, 'alias.txt'), 'utf8')).toBe('inside\n');
  });

  it.each([
    ['a parent-relative path', 'get ../../../../etc/passwd'],
    ['an absolute path outside the home', 'get /etc/passwd'],
    ['a symlink to /etc', 'get etc-link/passwd'],
    ['listing through a symlink to /etc', 'ls etc-link/ssh/'],
    ['changing into the parent', 'cd ..'],
    ['writing through a symlink to /etc', 'put /etc/hostname etc-link/planted'],
    ['a new symlink pointing outside', 'ln -s /etc/passwd leak'],
  ])('refuses %s', async (_what, command) => {
    const result = await sftp(`${command}\n`);
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain('root:x:0:0');
    expect(result.stdout).not.toContain('ssh_config');
  });
});

describe('port forwarding', () => {
  let echo: Server;
  let echoPort: number;

  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => echo.close(() => r())));

  it('forwards ssh -L to a loopback port', async () => {
    const localPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const tunnel = spawn('ssh', [
      ...sshArgs(agent, laptop, [
        '-N',
        '-o',
        'ExitOnForwardFailure=yes',
        '-L',
        `${localPort}:127.0.0.1:${echoPort}`,
      ]),
      'dev@127.0.0.1',
    ]);
    try {
      // The tunnel listens once ssh has logged in; until then connections are refused.
      let reply = '';
      while (!reply) {
        reply = await new Promise<string>((resolve) => {
          const socket = connect(localPort, '127.0.0.1');
          let got = '';
          socket.on('connect', () => socket.end('ping through the tunnel\n'));
          socket.on('data', (d) => (got += d));
          socket.on('close', () => resolve(got));
          socket.on('error', () => setTimeout(() => resolve(''), 100));
        });
      }
      expect(reply).toBe('ping through the tunnel\n');
    } finally {
      tunnel.kill();
    }
  });

  it('carries ssh -W (the same direct-tcpip channel) to a loopback port', async () => {
    const result = await runProgram(
      'ssh',
      [...sshArgs(agent, laptop, ['-W', `127.0.0.1:${echoPort}`]), 'dev@127.0.0.1'],
      'ping\n',
    );
    expect(result.stdout).toBe('ping\n');
  });

  it('refuses the loopback ports AGENT_FORWARD_DENY_PORTS names, and only those', async () => {
    // Local mode: the hub and the Firestore emulator listen on the same loopback.
    const denied = await startTestAgent({
      AGENT_AUTHORIZED_KEYS_FILE: join(local, 'authorized_keys'),
      AGENT_FORWARD_DENY_PORTS: `1, ${echoPort}`,
    });
    try {
      const viaW = (host: string) =>
        runProgram(
          'ssh',
          [...sshArgs(denied, laptop, ['-W', `${host}:${echoPort}`]), 'dev@127.0.0.1'],
          'ping\n',
        );
      for (const host of ['127.0.0.1', 'localhost', '127.0.0.2']) {
        const refused = await viaW(host);
        expect(refused.stdout).toBe('');
        expect(refused.code).not.toBe(0);
      }
      expect(logLines).toContainEqual(
        expect.objectContaining({ audit: 'forward', dest_port: echoPort, allowed: false }),
      );
      const other = createServer((s) => s.pipe(s));
      await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
      const otherPort = (other.address() as { port: number }).port;
      const allowed = await runProgram(
        'ssh',
        [...sshArgs(denied, laptop, ['-W', `127.0.0.1:${otherPort}`]), 'dev@127.0.0.1'],
        'ping\n',
      );
      await new Promise<void>((r) => other.close(() => r()));
      expect(allowed.stdout).toBe('ping\n');
    } finally {
      await denied.close();
    }
  });

  it('refuses forwarding to a host other than loopback', async () => {
    const client = await connectSsh2(agent, laptop);
    const error = await new Promise<Error | undefined>((resolve) =>
      client.forwardOut('127.0.0.1', 5000, '10.1.2.3', 80, (err) => resolve(err)),
    );
    client.end();
    expect(error?.message).toMatch(/channel open failure/i);
    const viaOpenSsh = await runProgram('ssh', [
      ...sshArgs(agent, laptop, ['-W', '192.0.2.1:22']),
      'dev@127.0.0.1',
    ]);
    expect(viaOpenSsh.code).not.toBe(0);
  });
});
