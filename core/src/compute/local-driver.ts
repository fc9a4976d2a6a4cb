import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Settled, settleEach } from '../each-limited.js';
import { HubError } from '../errors.js';
import { freeLoopbackPort } from '../net.js';
import type {
  ComputeDriver,
  InstanceCall,
  InstanceSpec,
  InstanceState,
  InstanceStatus,
  OperationRef,
  OperationState,
  StrayHome,
  SuspendResult,
} from './driver.js';
import { QUARANTINE_LABEL } from './driver.js';
import {
  agentProcessState,
  readAgentRecords,
  unrecordedFolders,
  writeAgentRecord,
} from './local-agent-record.js';
import { signalTree } from './process-tree.js';

export interface LocalDriverOptions {
  /** Each workspace gets `<dataDir>/workspaces/<name>/home`. */
  dataDir: string;
  /** How to run the agent: e.g. `[process.execPath, 'vm-agent/dist/main.js']`. */
  agentCommand: readonly string[];
  /** Where the agents call back. */
  hubUrl: string;
  /**
   * Loopback ports the agents' `ssh -L` must not reach: the agents run on
   * this machine, whose loopback also has the hub and the Firestore emulator.
   */
  forwardDenyPorts?: readonly number[];
  /**
   * The agent's extra environment (its token) when starting an agent this
   * process did not create (found from its record): the token is never
   * written to disk, so a new one is issued.
   */
  agentEnvFor?: (workspaceId: string) => Promise<Record<string, string>>;
}

/**
 * Why an instance found at start without its agent is not running: stopping the
 * hub (Ctrl-C) ends its agents. Read in `wsh` and on the dashboard (which has
 * its own Start button), so it names no command.
 */
export const RESTORED_REASON =
  'stopped when the local hub stopped; its home folder is kept, start it again';

/** In a workspace's folder: the sweep found it orphaned and stopped it; only an admin deletes it. */
export const QUARANTINED_FILE = 'quarantined';

interface LocalInstance {
  spec: InstanceSpec;
  status: InstanceStatus;
  port: number;
  dir: string;
  child: ChildProcess | null;
  /** The agent's pid: of `child`, or of an agent a previous hub process started. */
  pid: number | null;
  requestId: string;
  stopReason?: string;
}

/**
 * Workspaces as vm-agent processes on 127.0.0.1, for `npm start` and the
 * end-to-end tests. Suspend is SIGSTOP of the agent and its shells (memory and
 * terminals kept, as on GCE); resume is SIGCONT; delete kills and removes.
 * Operations complete at once. Stopping the hub stops its workspaces; a hub
 * that crashed leaves them running, and the next one finds them again from the
 * record each folder keeps (`local-agent-record.ts`); an agent that did not
 * survive comes back TERMINATED with RESTORED_REASON, started again on its home.
 */
export class LocalDriver implements ComputeDriver {
  readonly kind = 'local' as const;
  private readonly instances = new Map<string, LocalInstance>();
  private readonly operations = new Map<string, OperationState>();
  private readonly byRequestId = new Map<string, OperationRef>();
  private opCounter = 0;

  constructor(private readonly opts: LocalDriverOptions) {
    this.rediscover();
  }

  /** The workspaces a previous hub process left: running, suspended, or stopped with their home. */
  private rediscover(): void {
    for (const { dir, record } of readAgentRecords(join(this.opts.dataDir, 'workspaces'))) {
      const inst: LocalInstance = {
        spec: { ...record.spec, userData: '' },
        status: 'TERMINATED',
        port: record.port,
        dir,
        child: null,
        pid: record.pid,
        requestId: record.requestId,
      };
      if (existsSync(join(dir, QUARANTINED_FILE)))
        inst.spec.labels = { ...inst.spec.labels, [QUARANTINE_LABEL]: 'true' };
      this.refresh(inst);
      if (inst.status === 'TERMINATED') inst.stopReason = RESTORED_REASON;
      this.instances.set(this.key(inst.spec.zone, inst.spec.name), inst);
    }
  }

  /** Instances found at start whose agent was gone, for the hub to reconcile their workspaces. */
  restoredInstances(): InstanceState[] {
    return [...this.instances.values()]
      .filter((i) => i.stopReason === RESTORED_REASON)
      .map((i) => this.stateOf(i));
  }

  private stateOf(inst: LocalInstance): InstanceState {
    return {
      name: inst.spec.name,
      zone: inst.spec.zone,
      status: inst.status,
      labels: { ...inst.spec.labels },
      ...(inst.stopReason ? { stopReason: inst.stopReason } : {}),
      // Its agent listens on loopback only (AGENT_LISTEN_HOST).
      internalIp: '127.0.0.1',
    };
  }

  /** For an agent this process did not start: reads whether it still runs. */
  private refresh(inst: LocalInstance): void {
    if (inst.child || inst.pid === null) return;
    const id = inst.spec.labels['workspace-id'] ?? inst.spec.name;
    const state = agentProcessState(inst.pid, this.opts.agentCommand, id);
    if (state === null) {
      inst.pid = null;
      inst.status = 'TERMINATED';
    } else inst.status = state === 'stopped' ? 'SUSPENDED' : 'RUNNING';
  }

  private record(inst: LocalInstance): void {
    const { agentEnv: _secret, userData: _unused, ...spec } = inst.spec;
    writeAgentRecord(inst.dir, { spec, port: inst.port, pid: inst.pid, requestId: inst.requestId });
  }

  private key(zone: string, name: string) {
    return `${zone}/${name}`;
  }

  private find(zone: string, name: string): LocalInstance {
    const inst = this.instances.get(this.key(zone, name));
    if (!inst) throw new HubError('not_found', `instance ${name} not found in ${zone}`);
    this.refresh(inst);
    return inst;
  }

  private op(
    zone: string,
    requestId: string,
    run: () => void | Promise<void>,
  ): Promise<OperationRef> {
    const seen = this.byRequestId.get(requestId);
    if (seen) return Promise.resolve(seen);
    const ref = { name: `local-op-${++this.opCounter}`, zone };
    this.byRequestId.set(requestId, ref);
    return Promise.resolve(run()).then(
      () => {
        this.operations.set(ref.name, { done: true, error: null });
        return ref;
      },
      (err: unknown) => {
        this.operations.set(ref.name, {
          done: true,
          error: { code: 'local', message: String(err) },
        });
        return ref;
      },
    );
  }

  private async startAgent(inst: LocalInstance): Promise<void> {
    const workspaceId = inst.spec.labels['workspace-id'] ?? inst.spec.name;
    if (!inst.spec.agentEnv && this.opts.agentEnvFor)
      inst.spec = { ...inst.spec, agentEnv: await this.opts.agentEnvFor(workspaceId) };
    const home = join(inst.dir, 'home');
    mkdirSync(home, { recursive: true });
    const [cmd, ...args] = this.opts.agentCommand;
    // The agent writes its log into the file itself, not into a pipe this
    // process reads: an agent outlives a hub that crashed, and keeps logging.
    const log = openSync(join(inst.dir, 'agent.log'), 'a');
    const child = spawn(cmd!, args, {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        LANG: process.env.LANG ?? 'C.UTF-8',
        SHELL: process.env.SHELL ?? '/bin/bash',
        ...inst.spec.agentEnv,
        AGENT_PORT: String(inst.port),
        AGENT_LISTEN_HOST: '127.0.0.1',
        AGENT_HOME: home,
        HUB_URL: this.opts.hubUrl,
        AGENT_FORWARD_DENY_PORTS: (this.opts.forwardDenyPorts ?? []).join(','),
        WORKSPACE_ID: workspaceId,
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.once('exit', () => {
      if (inst.child === child) {
        inst.child = null;
        inst.pid = null;
        if (inst.status !== 'STOPPING') inst.status = 'TERMINATED';
      }
    });
    inst.child = child;
    inst.pid = child.pid ?? null;
    inst.status = 'RUNNING';
    delete inst.stopReason;
    this.record(inst);
  }

  async create(spec: InstanceSpec, requestId: string): Promise<OperationRef> {
    const k = this.key(spec.zone, spec.name);
    const existing = this.instances.get(k);
    if (existing && !this.byRequestId.has(requestId)) {
      // The create of an agent a previous hub process started: the same call, done.
      if (existing.requestId === requestId) return this.op(spec.zone, requestId, () => {});
      throw new HubError('conflict', `instance ${spec.name} already exists`);
    }
    return this.op(spec.zone, requestId, async () => {
      const inst: LocalInstance = {
        spec,
        status: 'PROVISIONING',
        port: await freeLoopbackPort(),
        dir: join(this.opts.dataDir, 'workspaces', spec.name),
        child: null,
        pid: null,
        requestId,
      };
      this.instances.set(k, inst);
      await this.startAgent(inst);
    });
  }

  async get(zone: string, name: string): Promise<InstanceState | null> {
    const inst = this.instances.get(this.key(zone, name));
    if (!inst) return null;
    this.refresh(inst);
    return this.stateOf(inst);
  }

  /** The loopback port the workspace's agent listens on. */
  agentPort(zone: string, name: string): number | null {
    return this.instances.get(this.key(zone, name))?.port ?? null;
  }

  async suspend(zone: string, name: string, requestId: string): Promise<SuspendResult> {
    const inst = this.find(zone, name);
    if (inst.status !== 'RUNNING')
      throw new HubError(
        'invalid_argument',
        `instance ${name} is ${inst.status}; only RUNNING can be suspended`,
      );
    const operation = await this.op(zone, requestId, () => {
      if (inst.pid) signalTree(inst.pid, 'SIGSTOP');
      inst.status = 'SUSPENDED';
    });
    return { operation, fallbackReason: null };
  }

  async resume(zone: string, name: string, requestId: string): Promise<OperationRef> {
    const inst = this.find(zone, name);
    return this.op(zone, requestId, async () => {
      if (inst.status === 'SUSPENDED' && inst.pid) {
        signalTree(inst.pid, 'SIGCONT');
        inst.status = 'RUNNING';
      } else if (inst.status === 'TERMINATED' || inst.status === 'STOPPED') {
        await this.startAgent(inst);
      }
    });
  }

  async delete(zone: string, name: string, requestId: string): Promise<OperationRef | null> {
    const inst = this.instances.get(this.key(zone, name));
    if (!inst) return this.byRequestId.get(requestId) ?? null;
    return this.op(zone, requestId, async () => {
      await this.kill(inst);
      rmSync(inst.dir, { recursive: true, force: true });
      this.instances.delete(this.key(zone, name));
    });
  }

  async stopSuspended(zone: string, name: string, requestId: string): Promise<OperationRef> {
    const inst = this.find(zone, name);
    return this.op(zone, requestId, async () => {
      if (inst.status === 'SUSPENDED' && inst.pid) signalTree(inst.pid, 'SIGCONT');
      await this.kill(inst);
      inst.status = 'TERMINATED';
    });
  }

  suspendMany(calls: readonly InstanceCall[]): Promise<Settled<SuspendResult>[]> {
    return settleEach(calls, 8, (c) => this.suspend(c.zone, c.name, c.requestId));
  }

  deleteMany(calls: readonly InstanceCall[]): Promise<Settled<OperationRef | null>[]> {
    return settleEach(calls, 8, (c) => this.delete(c.zone, c.name, c.requestId));
  }

  private async kill(inst: LocalInstance): Promise<void> {
    const child = inst.child;
    inst.status = 'STOPPING';
    if (!child && inst.pid !== null) return this.killAdopted(inst, inst.pid);
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    signalTree(child.pid, 'SIGKILL');
    await exited;
  }

  /** Kills the agent and keeps its folder, marked with a `quarantined` file an admin can see. */
  async quarantine(zone: string, name: string): Promise<void> {
    const inst = this.instances.get(this.key(zone, name));
    if (!inst) return;
    await this.kill(inst);
    inst.status = 'TERMINATED';
    inst.spec = { ...inst.spec, labels: { ...inst.spec.labels, [QUARANTINE_LABEL]: 'true' } };
    writeFileSync(join(inst.dir, QUARANTINED_FILE), `${new Date().toISOString()}\n`);
  }

  /** Kills an agent a previous hub process started: not our child, so its exit is polled for. */
  private async killAdopted(inst: LocalInstance, pid: number): Promise<void> {
    const id = inst.spec.labels['workspace-id'] ?? inst.spec.name;
    if (agentProcessState(pid, this.opts.agentCommand, id) === null) {
      inst.pid = null;
      return;
    }
    // A stopped process is woken so it does not linger stopped once its group is killed.
    signalTree(pid, 'SIGCONT');
    signalTree(pid, 'SIGKILL');
    for (let i = 0; i < 100 && agentProcessState(pid, this.opts.agentCommand, id); i++)
      await new Promise((r) => setTimeout(r, 50));
    inst.pid = null;
  }

  async getOperation(op: OperationRef): Promise<OperationState> {
    const state = this.operations.get(op.name);
    if (!state) throw new HubError('not_found', `operation ${op.name} not found`);
    return state;
  }

  async waitOperation(op: OperationRef): Promise<OperationState> {
    return this.getOperation(op);
  }

  /** Folders under `workspaces/` without `instance.json`: kept, listed to admins. */
  async strayHomes(): Promise<StrayHome[]> {
    return unrecordedFolders(join(this.opts.dataDir, 'workspaces')).map((path) => ({
      name: basename(path),
      path,
    }));
  }

  async list(zones: readonly string[], labels: Record<string, string>): Promise<InstanceState[]> {
    const out: InstanceState[] = [];
    for (const inst of this.instances.values()) {
      if (!zones.includes(inst.spec.zone)) continue;
      this.refresh(inst);
      if (Object.entries(labels).some(([k, v]) => inst.spec.labels[k] !== v)) continue;
      out.push(this.stateOf(inst));
    }
    return out;
  }

  /** Stops every agent (the hub is shutting down); their folders stay until deleted. */
  async close(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => this.kill(i)));
  }
}
