import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCloudConfig } from './render.js';
import { fullSpec, minimalSpec } from './test-specs.js';
import { runScriptWithStubs, writtenFile } from './test-support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cloud-init-firewall-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RULE = ['INPUT', '-p', 'tcp', '-s', '35.235.240.0/20', '--dport', '2300', '-j', 'ACCEPT'];

type Config = { write_files: Array<{ path: string; content: string }>; runcmd: string[][] };
const unit = (config: Config, name: string) =>
  config.write_files.find((file) => file.path === `/etc/systemd/system/${name}`)?.content ?? '';

describe("the agent's port in COS's host firewall", () => {
  it('is opened to the IAP TCP forwarding range, for the agent port only', async () => {
    const script = await writtenFile(
      dir,
      renderCloudConfig(fullSpec),
      '/etc/workspace-hub/open-agent-port.sh',
    );
    // iptables -C fails: the rule is not there yet, as on every fresh boot.
    const { calls, exitCode } = await runScriptWithStubs(dir, script, { iptables: 1 });
    expect(exitCode).toBe(1);
    const again = await runScriptWithStubs(dir, script, { iptables: 0 });
    expect(again.exitCode).toBe(0);
    expect(calls).toEqual([
      ['iptables', '-w', '-C', ...RULE],
      ['iptables', '-w', '-I', ...RULE],
    ]);
    // Already there (the unit restarted): checked, not added twice.
    expect(again.calls).toEqual([['iptables', '-w', '-C', ...RULE]]);
  });

  it('is opened to the hub’s VPC egress range too when given, and to nothing else', async () => {
    const script = await writtenFile(
      dir,
      renderCloudConfig({ ...fullSpec, agentSourceRanges: ['10.8.0.0/26'] }),
      '/etc/workspace-hub/open-agent-port.sh',
    );
    const fromHub = ['INPUT', '-p', 'tcp', '-s', '10.8.0.0/26', '--dport', '2300', '-j', 'ACCEPT'];
    // Both already there: each checked once, none added.
    const { calls } = await runScriptWithStubs(dir, script, { iptables: 0 });
    expect(calls).toEqual([
      ['iptables', '-w', '-C', ...RULE],
      ['iptables', '-w', '-C', ...fromHub],
    ]);
  });

  it('refuses a source range that is not an IPv4 CIDR range, naming the field', () => {
    expect(() =>
      renderCloudConfig({ ...fullSpec, agentSourceRanges: ['10.8.0.0/26; reboot'] }),
    ).toThrow(/agentSourceRanges\.0: must be an IPv4 CIDR range/);
  });

  it('is opened on every boot before the agent starts, which requires it', () => {
    const config = parse(renderCloudConfig(minimalSpec)) as Config;
    const firewall = unit(config, 'workspace-firewall.service');
    expect(firewall).toContain('Type=oneshot');
    expect(firewall).toContain('ExecStart=/bin/bash /etc/workspace-hub/open-agent-port.sh');
    const agent = unit(config, 'workspace-agent.service');
    expect(agent).toMatch(/^Requires=.*\bworkspace-firewall\.service\b/m);
    expect(agent).toMatch(/^After=.*\bworkspace-firewall\.service\b/m);
  });
});
