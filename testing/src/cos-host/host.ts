import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestSigner } from '../tokens.js';
import { type BootConfig, journalDir } from './boot-config.js';
import { type BridgeSpec, startBridge } from './bridge.js';
import { startMetadataServer, type VmIdentity } from './metadata-server.js';
import {
  createHostNetwork,
  type HostNetwork,
  IAP_SOURCE,
  METADATA_ADDRESS,
  OUTSIDE_SOURCE,
  VM_ADDRESS,
} from './network.js';
import type { ProbeOutcome } from './probe.js';
import { run } from './run.js';

/** This package's built CLIs (tests run the sources; a namespace runs plain node). */
const DIST = new URL('../../dist/cos-host/', import.meta.url).pathname;
/** A port on the VM that something listens on but nobody opened in the firewall. */
export const UNOPENED_PORT = 2223;
const HOME_DISK_BYTES = 64 * 1024 * 1024;

export interface CosHostOptions {
  /** The user-data exactly as the gce driver sent it in the instance's metadata. */
  userData: string;
  /** The hub's URL in the user-data, `http://127.0.0.1:PORT`: the VM reaches that port as Google's network would. */
  hubUrl: string;
  vm: VmIdentity;
  /** Signs the instance identity tokens in Google's stead. */
  signer: TestSigner;
  /** The agent's entry point (vm-agent/dist/main.js). */
  agentMain: string;
  /** VM ports IAP TCP forwarding may be asked for (each gets a path from an IAP source). */
  iapPorts: number[];
}

export interface CosHost {
  network: HostNetwork;
  /** A loopback port whose connections reach the VM's `port` from an address in IAP's range. */
  iapPathTo(port: number): number;
  /** A TCP connect to the VM's `port`: from IAP's range, from outside it, or from the VM itself. */
  probe(from: 'iap' | 'outside' | 'vm', port: number, timeoutMs?: number): Promise<ProbeOutcome>;
  /** The boot's output and every unit's journal, for a failure message. */
  logs(): Promise<string>;
  close(): Promise<void>;
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Spawns `argv`, resolving once its stdout shows `marker`; rejects if it exits or takes too long. */
async function startProcess(argv: string[], marker: string, timeoutMs = 15_000): Promise<Started> {
  const [command = '', ...args] = argv;
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const what = argv.find((arg) => arg.endsWith('-main.js')) ?? command;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: no "${marker.trim()}" in ${timeoutMs} ms: ${output}`)),
        timeoutMs,
      );
      child.stdout?.on('data', () => {
        if (!output.includes(marker)) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited ${code}: ${output}`));
      });
    });
  } catch (err) {
    await stop(child);
    throw err;
  }
  return { child, output: () => output };
}

async function stop(process: ChildProcess): Promise<void> {
  if (process.exitCode !== null || process.signalCode !== null) return;
  const exited = new Promise((resolve) => process.once('exit', resolve));
  process.stdin?.end();
  process.kill('SIGKILL');
  await exited;
}

/**
 * Boots a COS-like host from user-data (see README): its own network
 * namespace with COS's host firewall, a relay namespace in front of it, a loop
 * device for the home disk, then the boot itself. Everything is undone by
 * `close`, also when starting fails half-way.
 */
export async function bootCosHost(opts: CosHostOptions): Promise<CosHost> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse())
      await cleanup().catch((e) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, 'COS-like host cleanup failed');
  };
  try {
    const stateDir = await mkdtemp(join(tmpdir(), 'wsh-cos-host-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const network = await createHostNetwork();
    cleanups.push(() => network.close());
    const sock = (name: string) => join(stateDir, `${name}.sock`);

    // Google's side: the metadata server and the hub, reached from the VM's own addresses.
    const metadata = await startMetadataServer(opts.vm, opts.signer);
    cleanups.push(() => metadata.close());
    const hub = new URL(opts.hubUrl);
    if (hub.hostname !== '127.0.0.1') throw new Error(`hubUrl must be http://127.0.0.1:PORT`);
    const hubPort = Number(hub.port);
    for (const [name, port] of [
      ['hub', hubPort],
      ['metadata', metadata.port],
    ] as const) {
      const bridge = await startBridge({
        listen: { path: sock(name) },
        connect: { host: '127.0.0.1', port },
      });
      cleanups.push(() => bridge.close());
    }
    const vmSide: BridgeSpec[] = [
      { listen: { host: '127.0.0.1', port: hubPort }, connect: { path: sock('hub') } },
      { listen: { host: METADATA_ADDRESS, port: 80 }, connect: { path: sock('metadata') } },
      { listen: { host: '0.0.0.0', port: UNOPENED_PORT } },
    ];
    const vmBridges = await startProcess(
      network.exec(network.vm, [process.execPath, `${DIST}bridge-main.js`, JSON.stringify(vmSide)]),
      'ready\n',
    );
    cleanups.push(() => stop(vmBridges.child));

    // IAP's side: connections from 35.235.240.10 to the VM, one path per port.
    const relaySide: BridgeSpec[] = opts.iapPorts.map((port) => ({
      listen: { path: sock(`iap-${port}`) },
      connect: { host: VM_ADDRESS, port, localAddress: IAP_SOURCE },
    }));
    const relayBridges = await startProcess(
      network.exec(network.relay, [
        process.execPath,
        `${DIST}bridge-main.js`,
        JSON.stringify(relaySide),
      ]),
      'ready\n',
    );
    cleanups.push(() => stop(relayBridges.child));
    const iapPaths = new Map<number, number>();
    for (const port of opts.iapPorts) {
      const bridge = await startBridge({
        listen: { host: '127.0.0.1', port: 0 },
        connect: { path: sock(`iap-${port}`) },
      });
      cleanups.push(() => bridge.close());
      iapPaths.set(port, bridge.port ?? 0);
    }

    // The home disk: a loop device on a sparse file, never a real disk.
    const image = join(stateDir, 'home-disk.img');
    await writeFile(image, '');
    await truncate(image, HOME_DISK_BYTES);
    const homeDisk = (await run('losetup', ['--find', '--show', image])).trim();
    cleanups.push(() => run('losetup', ['--detach', homeDisk]));

    const userDataFile = join(stateDir, 'user-data');
    await writeFile(userDataFile, opts.userData);
    const config: BootConfig = {
      userDataFile,
      stateDir,
      homeDisk,
      agentMain: opts.agentMain,
    };
    const boot = await startProcess(
      network.exec(network.vm, [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--pid',
        '--fork',
        '--kill-child',
        '--mount-proc',
        process.execPath,
        `${DIST}boot-main.js`,
        JSON.stringify(config),
      ]),
      // cloud-init's final stage done; what runcmd started (the agent) keeps running.
      'cos-host: runcmd exited',
      60_000,
    );
    cleanups.push(() => stop(boot.child));

    const probe = async (from: 'iap' | 'outside' | 'vm', port: number, timeoutMs = 1500) => {
      const target = {
        host: from === 'vm' ? '127.0.0.1' : VM_ADDRESS,
        port,
        ...(from === 'vm' ? {} : { localAddress: from === 'iap' ? IAP_SOURCE : OUTSIDE_SOURCE }),
        timeoutMs,
      };
      const ns = from === 'vm' ? network.vm : network.relay;
      const out = await run(
        'ip',
        ['netns', 'exec', ns, process.execPath, `${DIST}probe-main.js`, JSON.stringify(target)],
        { timeoutMs: timeoutMs + 10_000 },
      );
      return out.trim() as ProbeOutcome;
    };

    return {
      network,
      iapPathTo(port) {
        const path = iapPaths.get(port);
        if (path === undefined) throw new Error(`no IAP path to port ${port}: add it to iapPorts`);
        return path;
      },
      probe,
      async logs() {
        const journal = journalDir(stateDir);
        const units = await readdir(journal).catch(() => [] as string[]);
        const parts = [`-- boot\n${boot.output()}`];
        for (const unit of units.sort())
          parts.push(`-- ${unit}\n${await readFile(join(journal, unit), 'utf8')}`);
        return parts.join('\n');
      },
      close,
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
