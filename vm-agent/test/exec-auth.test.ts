import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KeyPair,
  logLines,
  makeKey,
  runProgram,
  ssh,
  sshArgs,
  startTestAgent,
  type TestAgent,
  tempDir,
} from './helpers.js';

let agent: TestAgent;
let laptop: KeyPair;
let stranger: KeyPair;

beforeAll(async () => {
  const keysDir = tempDir('vm-agent-keys-');
  laptop = await makeKey(keysDir, 'laptop');
  stranger = await makeKey(keysDir, 'stranger');
  const authorized = join(keysDir, 'authorized_keys');
  writeFileSync(authorized, `${laptop.publicKey}\n`);
  mkdirSync(join(keysDir, 'secrets'));
  writeFileSync(join(keysDir, 'secrets', 'GITHUB_TOKEN'), 's3cr3t-value');
  agent = await startTestAgent({
    AGENT_AUTHORIZED_KEYS_FILE: authorized,
    WORKSPACE_SECRETS_DIR: join(keysDir, 'secrets'),
    WORKSPACE_AGENT_TOKEN: 'agent-token-must-not-leak',
  });
});

afterAll(() => agent?.close());

describe('exec', () => {
  it('returns the exit status and keeps stderr apart, like sshd', async () => {
    const result = await ssh(agent, laptop, ['echo out; echo err >&2; exit 42']);
    expect(result).toMatchObject({ code: 42, stdout: 'out\n', stderr: 'err\n' });
  });

  it('feeds stdin to the command and runs it in the workspace home', async () => {
    const result = await ssh(agent, laptop, ['tr a-z A-Z; pwd'], 'hello\n');
    expect(result.stdout).toBe(`HELLO\n${agent.home}\n`);
  });

  it('passes LANG from the client, sets TERM only with a pty, points at secrets and hides the agent token', async () => {
    const shellDefault = (name: string) => `\${${name}:-none}`;
    const probe = `echo "lang=$LANG term=${shellDefault('TERM')} secrets=$WORKSPACE_SECRETS_DIR token=${shellDefault('WORKSPACE_AGENT_TOKEN')}"`;
    const plain = await runProgram('env', [
      'LANG=fr_FR.UTF-8',
      'TERM=vt220',
      'ssh',
      ...sshArgs(agent, laptop, ['-o', 'SendEnv=LANG', '-T']),
      'dev@127.0.0.1',
      probe,
    ]);
    // Without a pty the client's TERM is not passed (bash itself may fall back to "dumb").
    expect(plain.stdout.trim()).toMatch(
      new RegExp(
        `^lang=fr_FR.UTF-8 term=(none|dumb) secrets=${agent.config.secretsDir} token=none$`,
      ),
    );
    const withPty = await runProgram('env', [
      'TERM=vt220',
      'ssh',
      ...sshArgs(agent, laptop, ['-tt']),
      'dev@127.0.0.1',
      `${probe}; exit 3`,
    ]);
    expect(withPty.code).toBe(3);
    expect(withPty.stdout).toContain('term=vt220');
    expect(withPty.stdout).toContain('token=none');
  });

  it('checks the secrets directory without reading the secrets', () => {
    expect(logLines).toContainEqual(
      expect.objectContaining({
        message: 'secrets directory',
        files: 1,
        filesystem: expect.any(String),
      }),
    );
    expect(JSON.stringify(logLines)).not.toContain('s3cr3t-value');
  });

  it('audits exec without arguments', async () => {
    await ssh(agent, laptop, ['echo secret-argument']);
    const execs = logLines.filter((l) => l.audit === 'exec');
    expect(execs).toContainEqual(expect.objectContaining({ command: 'echo', device_id: 'laptop' }));
    expect(JSON.stringify(logLines)).not.toContain('secret-argument');
    expect(JSON.stringify(logLines)).not.toContain('agent-token-must-not-leak');
  });
});

describe('AGENT_AUDIT_COMMANDS=1', () => {
  it('audits exec lines with their arguments', async () => {
    const verbose = await startTestAgent({
      AGENT_AUTHORIZED_KEYS_FILE: agent.config.authorizedKeysFile as string,
      AGENT_AUDIT_COMMANDS: '1',
    });
    try {
      await ssh(verbose, laptop, ['echo', 'with-arguments']);
      expect(logLines).toContainEqual(
        expect.objectContaining({ audit: 'exec', command: 'echo with-arguments' }),
      );
    } finally {
      await verbose.close();
    }
  });
});

describe('authentication', () => {
  it('refuses a key that is not authorized', async () => {
    const result = await ssh(agent, stranger, ['echo in']);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Permission denied (publickey)');
    expect(logLines).toContainEqual(
      expect.objectContaining({ audit: 'auth', result: 'refused', method: 'publickey' }),
    );
  });

  it('offers no password or keyboard-interactive login', async () => {
    const result = await runProgram('ssh', [
      ...sshArgs(agent, stranger, [
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password,keyboard-interactive',
      ]),
      'dev@127.0.0.1',
      'true',
    ]);
    expect(result.code).toBe(255);
    expect(result.stderr).toContain('Permission denied (publickey)');
  });

  it('presents the host key whose fingerprint it reports', async () => {
    const scan = await runProgram('ssh-keygen', ['-l', '-f', agent.knownHosts]);
    expect(scan.stdout).toContain(agent.hostKeyFingerprint);
    expect(agent.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
