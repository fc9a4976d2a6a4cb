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

  it.each([
    [{ AGENT_PORT: '70000' }, 'AGENT_PORT'],
    [{ AGENT_SCROLLBACK_BYTES: '1MB' }, 'AGENT_SCROLLBACK_BYTES'],
    [{ HUB_URL: 'ftp://hub', WORKSPACE_ID: 'ws-a' }, 'HUB_URL'],
    [{ HUB_URL: 'https://hub.example' }, 'WORKSPACE_ID'],
    [{ AGENT_AUDIT_COMMANDS: 'yes' }, 'AGENT_AUDIT_COMMANDS'],
    [{ AGENT_HEARTBEAT_SECONDS: '0' }, 'AGENT_HEARTBEAT_SECONDS'],
  ])('names the bad variable in %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});

describe('parseCommand', () => {
  it('recognises the agent commands and leaves everything else to the shell', () => {
    expect(parseCommand('attach')).toEqual({ kind: 'attach', name: 'main' });
    expect(parseCommand('attach build')).toEqual({ kind: 'attach', name: 'build' });
    expect(parseCommand('sessions --json')).toEqual({ kind: 'sessions', json: true });
    expect(parseCommand('kill build')).toEqual({ kind: 'kill', name: 'build' });
    expect(parseCommand('kill 1234')).toEqual({ kind: 'exec', command: 'kill 1234' });
    expect(parseCommand('kill -9 1234')).toEqual({ kind: 'exec', command: 'kill -9 1234' });
  });
});
