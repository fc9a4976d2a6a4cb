import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCloudConfig } from './render.js';
import { parseCloudConfigSpec } from './spec.js';
import { fullSpec, minimalSpec, oddSpec } from './test-specs.js';
import { run, runScriptWithStubs, writtenFile } from './test-support.js';

let dir: string;
/** mountpoint fails so the script mounts the tmpfs, as on a fresh boot. */
const AGENT_STUBS = { docker: 0, 'docker-credential-gcr': 0, mountpoint: 1, mount: 0, mkdir: 0 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cloud-init-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Debian's cloud-init validates the file the way the VM's cloud-init will read it. */
async function cloudInitSchema(userData: string): Promise<{ ok: boolean; output: string }> {
  const file = join(dir, `user-data-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, userData);
  try {
    const { stdout, stderr } = await run('cloud-init', ['schema', '--config-file', file]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: stdout + stderr };
  }
}

describe('renderCloudConfig', () => {
  it.each([
    ['minimal', minimalSpec],
    ['full', fullSpec],
    ['odd', oddSpec('/nonexistent/canary')],
  ])('renders %s user-data that cloud-init accepts', async (name, spec) => {
    const userData = renderCloudConfig(spec);
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    const verdict = await cloudInitSchema(userData);
    expect(verdict.output).toContain('Valid cloud-config');
    expect(verdict.ok).toBe(true);
    await expect(userData).toMatchFileSnapshot(`./__snapshots__/${name}.yaml`);
  });

  it('is checked by a schema validator that does reject broken user-data', async () => {
    const broken = renderCloudConfig(minimalSpec).replace('runcmd:', 'runcmd: 5\nignored:');
    expect((await cloudInitSchema(broken)).ok).toBe(false);
  });

  it('renders shell and YAML specials inert: docker receives them as literal words', async () => {
    const canaries = await mkdtemp(join(dir, 'canary-'));
    const spec = oddSpec(canaries);
    const script = await writtenFile(
      dir,
      renderCloudConfig(spec),
      '/etc/workspace-hub/run-agent.sh',
    );
    const { calls } = await runScriptWithStubs(dir, script, AGENT_STUBS);

    const resolved = parseCloudConfigSpec(spec);
    const dockerRun = calls.find((call) => call[0] === 'docker' && call[1] === 'run');
    expect(dockerRun).toBeDefined();
    expect(dockerRun).toContain(`--env=HUB_URL=${resolved.hubUrl}`);
    expect(dockerRun).toContain('--env=WORKSPACE_SECRET_NAMES=-rf,--privileged,a_b-c');
    expect(dockerRun).not.toContain('--privileged');
    expect(dockerRun?.at(-1)).toBe(resolved.image);
    await expect(stat(join(canaries, 'dollar'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(canaries, 'backtick'))).rejects.toThrow(/ENOENT/);
  });

  it('runs the image with host networking, the home disk, the secrets tmpfs and Cloud Logging', async () => {
    const script = await writtenFile(
      dir,
      renderCloudConfig(fullSpec),
      '/etc/workspace-hub/run-agent.sh',
    );
    const { calls } = await runScriptWithStubs(dir, script, AGENT_STUBS);
    expect(calls).toContainEqual([
      'mount',
      '-t',
      'tmpfs',
      '-o',
      'size=64m,mode=0700,uid=4242,gid=4242,nosuid,nodev,noexec',
      'tmpfs',
      '/run/workspace-secrets',
    ]);
    expect(calls).toContainEqual([
      'docker-credential-gcr',
      'configure-docker',
      '--registries=us-docker.pkg.dev',
    ]);
    expect(calls.at(-1)).toEqual([
      'docker',
      'run',
      '--rm',
      '--name=workspace-agent',
      '--init',
      '--network=host',
      '--log-driver=gcplogs',
      '--mount=type=bind,src=/mnt/stateful_partition/homes/ada,dst=/home/ada',
      '--mount=type=bind,src=/run/workspace-secrets,dst=/run/workspace-secrets',
      '--env=WORKSPACE_ID=ws-zz2345qrst',
      '--env=HUB_URL=http://127.0.0.1:8080',
      '--env=AGENT_PORT=2300',
      '--env=AGENT_HOME=/home/ada',
      '--env=AGENT_HOST_KEY_FILE=/home/ada/.workspace-hub/ssh_host_ed25519_key',
      '--env=WORKSPACE_USER=ada',
      '--env=WORKSPACE_UID=4242',
      '--env=WORKSPACE_SECRETS_DIR=/run/workspace-secrets',
      '--env=WORKSPACE_SECRET_NAMES=github-token,npm_token',
      '--env=GOOGLE_CLOUD_PROJECT=acme-dev',
      fullSpec.image,
    ]);
  });

  it('installs the units under /etc and starts the agent with restart on failure', () => {
    const config = parse(renderCloudConfig(minimalSpec)) as {
      write_files: Array<{ path: string; content: string }>;
      runcmd: string[][];
    };
    const paths = config.write_files.map((file) => file.path);
    for (const path of paths) expect(path.startsWith('/etc/')).toBe(true);
    const agentUnit = config.write_files.find(
      (file) => file.path === '/etc/systemd/system/workspace-agent.service',
    );
    expect(agentUnit?.content).toContain('Restart=on-failure');
    expect(agentUnit?.content).toContain('Requires=docker.service workspace-home.service');
    expect(config.runcmd).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'start', 'workspace-agent.service'],
    ]);
  });

  it('formats the home disk only when blkid reports it blank', async () => {
    const script = await writtenFile(
      dir,
      renderCloudConfig(minimalSpec),
      '/etc/workspace-hub/mount-home.sh',
    );
    await run('bash', ['-n', '-c', script]);
    expect(script).toContain("device='/dev/disk/by-id/google-home'");
    expect(script).toMatch(/if \[ "\$blkid_status" -eq 2 \]; then\n\s+mkfs\.ext4 /);
  });
});
