import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_LABEL } from '@workspace-hub/core';
import type { ComputeFake, FakeStatus } from '@workspace-hub/testing';
import { loadConfig, type RunningAgent, setLogSink, startAgent } from '../../vm-agent/src/index.js';

/** Signs the instance identity token the VM's metadata server would hand its agent. */
export type IdentitySigner = (
  vm: { project_id: string; zone: string; instance_name: string },
  audience: string,
) => string;

interface Vm {
  agent: RunningAgent | null;
  metadata: Server;
  home: string;
  lastStatus: FakeStatus;
}

/**
 * What a workspace VM's boot does, for the instances the Compute fake holds:
 * once one is RUNNING, the real vm-agent starts (in this process, on
 * loopback), with a metadata server of its own that answers its identity-token
 * requests, and calls the hub back as on GCE. After a suspend and resume it
 * reports ready again (on a VM the agent notices the wall-clock jump); when
 * the instance is gone its agent stops.
 */
export function simulateVms(fake: ComputeFake, opts: { hubUrl: string; sign: IdentitySigner }) {
  const vms = new Map<string, Vm>();
  const agentLogs: string[] = [];
  setLogSink((line) => agentLogs.push(line));

  function metadataServer(name: string): Promise<Server> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://metadata');
      const inst = fake.instance(name);
      if (
        req.headers['metadata-flavor'] !== 'Google' ||
        url.pathname !== '/computeMetadata/v1/instance/service-accounts/default/identity' ||
        !inst
      ) {
        res.writeHead(404).end();
        return;
      }
      const audience = url.searchParams.get('audience') ?? '';
      res.writeHead(200, { 'content-type': 'application/text' });
      res.end(
        opts.sign(
          { project_id: inst.project, zone: inst.zone, instance_name: inst.name },
          audience,
        ),
      );
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  async function boot(name: string, workspaceId: string): Promise<Vm> {
    const metadata = await metadataServer(name);
    const home = mkdtempSync(join(tmpdir(), `vm-${name}-`));
    const vm: Vm = { agent: null, metadata, home, lastStatus: 'RUNNING' };
    vms.set(name, vm);
    vm.agent = await startAgent(
      loadConfig({
        HUB_URL: opts.hubUrl,
        WORKSPACE_ID: workspaceId,
        AGENT_PORT: '0',
        AGENT_LISTEN_HOST: '127.0.0.1',
        AGENT_HOME: home,
        GCE_METADATA_HOST: `127.0.0.1:${(metadata.address() as AddressInfo).port}`,
        SHELL: '/bin/bash',
      }),
    );
    return vm;
  }

  async function shutdown(name: string, vm: Vm) {
    vms.delete(name);
    await vm.agent?.close();
    await new Promise((r) => vm.metadata.close(r));
    rmSync(vm.home, { recursive: true, force: true });
  }

  const names = () =>
    new Set(fake.calls.filter((c) => c.method === 'insert').map((c) => c.instance ?? ''));

  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (const name of names()) {
        const inst = fake.instance(name);
        const vm = vms.get(name);
        if (!inst) {
          if (vm) await shutdown(name, vm);
          continue;
        }
        if (!vm && inst.status === 'RUNNING') {
          const id = inst.labels[WORKSPACE_LABEL];
          if (id) await boot(name, id);
          continue;
        }
        if (vm && inst.status !== vm.lastStatus) {
          if (inst.status === 'RUNNING' && vm.lastStatus !== 'RUNNING') vm.agent?.reportReady();
          vm.lastStatus = inst.status;
        }
      }
    } finally {
      busy = false;
    }
  }, 50);

  return {
    agentLogs,
    /** Where IAP would connect for `instance:port`: the agent, only while the VM runs. */
    target(instance: string, port: number): { host: string; port: number } | undefined {
      const vm = vms.get(instance);
      if (!vm?.agent || fake.instance(instance)?.status !== 'RUNNING') return undefined;
      return port === vm.agent.port ? { host: '127.0.0.1', port } : undefined;
    },
    async close() {
      clearInterval(timer);
      for (const [name, vm] of [...vms]) await shutdown(name, vm);
    },
  };
}
