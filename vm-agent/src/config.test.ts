import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { parseCommand } from './session-commands.js';

describe('loadConfig', () => {
  it('defaults to port 2222, all interfaces, a host key under the home and 1 MiB of scrollback', () => {
    const config = loadConfig({ AGENT_HOME: '/home/dev' });
    expect(config).toMatchObject({
      port: 2222,
      listenHost: '0.0.0.0',
      hostKeyFile: '/home/dev/.vm-agent/ssh_host_ed25519_key',
      scrollbackBytes: 1024 * 1024,
      hubUrl: null,
      auditCommands: false,
    });
  });

  it('fetches no secrets by default and uses the public Secret Manager endpoint', () => {
    expect(loadConfig({})).toMatchObject({
      secretsDir: null,
      secretNames: [],
      project: null,
      secretManagerEndpoint: 'https://secretmanager.googleapis.com',
    });
  });

  it('splits WORKSPACE_SECRET_NAMES, keeping odd ids for the fetch to report', () => {
    const config = loadConfig({
      WORKSPACE_SECRETS_DIR: '/run/workspace-secrets',
      WORKSPACE_SECRET_NAMES: ' github-token, npm_token,,github-token,bad.name ',
      GOOGLE_CLOUD_PROJECT: 'acme-dev',
      SECRET_MANAGER_ENDPOINT: 'http://127.0.0.1:9999/',
    });
    expect(config).toMatchObject({
      secretNames: ['github-token', 'npm_token', 'bad.name'],
      project: 'acme-dev',
      secretManagerEndpoint: 'http://127.0.0.1:9999',
    });
    for (const project of ['example.com:acme-dev', '123456789012'])
      expect(loadConfig({ GOOGLE_CLOUD_PROJECT: project }).project).toBe(project);
  });

  it('reads the forwarding deny-list (none by default)', () => {
    expect(loadConfig({}).forwardDenyPorts).toEqual(new Set());
    expect(loadConfig({ AGENT_FORWARD_DENY_PORTS: ' 8080, 8081,,8080 ' }).forwardDenyPorts).toEqual(
      new Set([8080, 8081]),
    );
  });

  it.each([
    [{ AGENT_PORT: '70000' }, 'AGENT_PORT'],
    [{ AGENT_SCROLLBACK_BYTES: '1MB' }, 'AGENT_SCROLLBACK_BYTES'],
    [{ HUB_URL: 'ftp://hub', WORKSPACE_ID: 'ws-a' }, 'HUB_URL'],
    [{ HUB_URL: 'https://hub.example' }, 'WORKSPACE_ID'],
    [{ AGENT_AUDIT_COMMANDS: 'yes' }, 'AGENT_AUDIT_COMMANDS'],
    [{ AGENT_HEARTBEAT_SECONDS: '0' }, 'AGENT_HEARTBEAT_SECONDS'],
    [{ WORKSPACE_SECRET_NAMES: 'github-token' }, 'WORKSPACE_SECRETS_DIR'],
    [{ GOOGLE_CLOUD_PROJECT: 'Acme Dev' }, 'GOOGLE_CLOUD_PROJECT'],
    [{ GOOGLE_CLOUD_PROJECT: 'acme-dev/../x' }, 'GOOGLE_CLOUD_PROJECT'],
    [{ SECRET_MANAGER_ENDPOINT: 'secretmanager.googleapis.com' }, 'SECRET_MANAGER_ENDPOINT'],
    [{ SECRET_MANAGER_ENDPOINT: 'file:///etc' }, 'SECRET_MANAGER_ENDPOINT'],
    [{ SECRET_MANAGER_ENDPOINT: 'https://u:p@sm.example' }, 'SECRET_MANAGER_ENDPOINT'],
    [{ AGENT_FORWARD_DENY_PORTS: '8080,http' }, 'AGENT_FORWARD_DENY_PORTS'],
    [{ AGENT_FORWARD_DENY_PORTS: '0' }, 'AGENT_FORWARD_DENY_PORTS'],
    [{ AGENT_FORWARD_DENY_PORTS: '65536' }, 'AGENT_FORWARD_DENY_PORTS'],
  ])('names the bad variable in %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});

describe('parseCommand', () => {
  it('recognises the agent commands and leaves everything else to the shell', () => {
    expect(parseCommand('attach')).toEqual({ kind: 'attach', name: 'main' });
    expect(parseCommand('attach build')).toEqual({ kind: 'attach', name: 'build' });
    expect(parseCommand('attach my build')).toEqual({ kind: 'attach', name: 'my build' });
    expect(parseCommand('sessions --json')).toEqual({ kind: 'sessions', json: true });
    expect(parseCommand('kill build')).toEqual({ kind: 'kill', name: 'build' });
    expect(parseCommand('kill 1234')).toEqual({ kind: 'exec', command: 'kill 1234' });
    expect(parseCommand('kill -9 1234')).toEqual({ kind: 'exec', command: 'kill -9 1234' });
  });
});
