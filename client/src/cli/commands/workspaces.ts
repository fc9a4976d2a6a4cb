import type { Workspace } from '@workspace-hub/api';
import { type CliContext, createContext } from '../context.js';
import { CliError } from '../errors.js';
import { emit, table, workspaceLine } from '../output.js';
import { waitForGone, waitForStatus } from '../wait.js';
import { type Command, type Flags, int, str } from './types.js';

const waitOptions = {
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/** The workspace `ref` names (its id or name), or the only one there is. */
export async function resolveWorkspace(
  ctx: CliContext,
  ref: string | undefined,
): Promise<Workspace> {
  if (ref) return ctx.client.getWorkspace(ref);
  const all: Workspace[] = [];
  for await (const ws of ctx.client.allWorkspaces()) all.push(ws);
  if (all.length === 1) return all[0]!;
  throw new CliError(
    all.length === 0
      ? 'no workspaces: create one with `wsh create`'
      : 'several workspaces: name one (see `wsh ls`)',
  );
}

/** The workspace argument (an id or a name); the hub resolves either. */
function requireRef(positionals: string[], usage: string): string {
  const ref = positionals[0];
  if (!ref) throw new CliError(`usage: wsh ${usage}`);
  return ref;
}

const timeoutOf = (flags: Flags) => int(flags, 'timeout', 600)!;

export const ls: Command = {
  usage: 'ls [--status S] [--all]',
  summary: 'List your workspaces',
  options: { status: { type: 'string' }, all: { type: 'boolean' } },
  async run({ flags }) {
    const ctx = createContext(flags);
    const list: Workspace[] = [];
    for await (const ws of ctx.client.allWorkspaces({
      status: str(flags, 'status') as Workspace['status'] | undefined,
      scope: flags.all ? 'all' : undefined,
    }))
      list.push(ws);
    const rows = [['NAME', 'ID', 'STATUS', 'MACHINE', 'ZONE', 'REPO', 'LAST DEVICE', 'DEADLINE']];
    for (const ws of list)
      rows.push([
        ws.name,
        ws.id,
        ws.status,
        ws.machine_type,
        ws.zone,
        ws.metadata.repo ?? '-',
        ws.last_device_id ?? '-',
        ws.deadline ?? '-',
      ]);
    emit(ctx, { workspaces: list }, list.length ? table(rows) : 'no workspaces');
    return 0;
  },
};

export const create: Command = {
  usage:
    'create [--name NAME] [--repo URL] [--branch B] [--machine-type T] [--zone Z] [--disk-size GB] [--idle-timeout MIN] [--no-wait] [--timeout S]',
  summary: 'Create a workspace (named NAME, else after its repository) and wait until it is READY',
  options: {
    name: { type: 'string', field: 'name' },
    repo: { type: 'string', field: 'repo' },
    branch: { type: 'string', field: 'branch' },
    'machine-type': { type: 'string', field: 'machine_type' },
    zone: { type: 'string', field: 'zone' },
    'disk-size': { type: 'string', field: 'disk_size_gb' },
    'idle-timeout': { type: 'string', field: 'idle_timeout_minutes' },
    ...waitOptions,
  },
  async run({ flags }) {
    const ctx = createContext(flags);
    let ws = await ctx.client.createWorkspace({
      name: str(flags, 'name'),
      repo: str(flags, 'repo'),
      branch: str(flags, 'branch'),
      machine_type: str(flags, 'machine-type'),
      zone: str(flags, 'zone'),
      disk_size_gb: int(flags, 'disk-size'),
      idle_timeout_minutes: int(flags, 'idle-timeout'),
      device_id: ctx.deviceId,
    });
    if (!flags['no-wait']) ws = await waitForStatus(ctx, ws.id, 'READY', timeoutOf(flags));
    emit(ctx, ws, workspaceLine(ws));
    return 0;
  },
};

export const status: Command = {
  usage: 'status [WS]',
  summary: 'Live status (reconciled with the compute backend)',
  async run({ flags, positionals }) {
    const ctx = createContext(flags);
    const id = (await resolveWorkspace(ctx, positionals[0])).id;
    const report = await ctx.client.workspaceStatus(id);
    const ws = report.workspace;
    const human = table([
      ['name', ws.name],
      ['id', ws.id],
      ['status', ws.status + (ws.status_reason ? ` (${ws.status_reason})` : '')],
      ['instance', report.instance_status ?? '-'],
      ['machine', `${ws.machine_type} in ${ws.zone}`],
      [
        'repo',
        ws.metadata.repo
          ? `${ws.metadata.repo}${ws.metadata.branch ? `@${ws.metadata.branch}` : ''}`
          : '-',
      ],
      ['last device', ws.last_device_id ?? '-'],
      ['deadline', report.deadline ?? '-'],
      ['host key', ws.agent?.host_key_fingerprint ?? '-'],
      ...(ws.error ? [['error', `${ws.error.code}: ${ws.error.message}`]] : []),
    ]);
    emit(ctx, report, human);
    return 0;
  },
};

function transition(
  action: 'start' | 'stop',
  target: 'READY' | 'SUSPENDED',
  summary: string,
): Command {
  return {
    usage: `${action} WS [--no-wait] [--timeout S]`,
    summary,
    options: waitOptions,
    async run({ flags, positionals }) {
      const ctx = createContext(flags);
      const ref = requireRef(positionals, `${action} WS`);
      let ws =
        action === 'start'
          ? await ctx.client.startWorkspace(ref)
          : await ctx.client.stopWorkspace(ref);
      // By id from here on: a rename meanwhile must not lose the workspace.
      if (!flags['no-wait']) ws = await waitForStatus(ctx, ws.id, target, timeoutOf(flags));
      emit(ctx, ws, workspaceLine(ws));
      return 0;
    },
  };
}

export const start = transition('start', 'READY', 'Resume a workspace and wait until READY');
export const stop = transition('stop', 'SUSPENDED', 'Suspend a workspace (terminals survive)');

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export const rm: Command = {
  usage: 'rm WS [--yes] [--no-wait] [--timeout S]',
  summary: 'Delete a workspace and its disk',
  options: { yes: { type: 'boolean', short: 'y' }, ...waitOptions },
  async run({ flags, positionals }) {
    const ctx = createContext(flags);
    const ref = requireRef(positionals, 'rm WS [--yes]');
    if (!flags.yes) {
      if (!process.stdin.isTTY)
        throw new CliError(`refusing to delete ${ref} without a terminal: pass --yes`);
      if (!(await confirm(`Delete ${ref} and everything in it? [y/N] `)))
        throw new CliError('not deleted');
    }
    const ws = await ctx.client.deleteWorkspace(ref);
    // By id: the name is free once the workspace is gone, and may be taken again.
    if (!flags['no-wait']) await waitForGone(ctx, ws.id, timeoutOf(flags));
    emit(
      ctx,
      { ...ws, deleted: !flags['no-wait'] },
      `${ws.name}  ${ws.id}  ${flags['no-wait'] ? 'DELETING' : 'deleted'}`,
    );
    return 0;
  },
};

export const rename: Command = {
  usage: 'rename WS NEW-NAME',
  summary: 'Rename a workspace; its id, VM and SSH host key stay (run `wsh config-ssh` again)',
  async run({ flags, positionals }) {
    const ctx = createContext(flags);
    const ref = requireRef(positionals, 'rename WS NEW-NAME');
    const name = positionals[1];
    if (!name) throw new CliError('usage: wsh rename WS NEW-NAME');
    const ws = await ctx.client.renameWorkspace(ref, name);
    emit(ctx, ws, `${ws.id}  renamed ${ref} → ${ws.name}`);
    return 0;
  },
};

export const extend: Command = {
  usage: 'extend [WS] --minutes N',
  summary: 'Push the idle deadline out',
  options: { minutes: { type: 'string', field: 'minutes' } },
  async run({ flags, positionals }) {
    const ctx = createContext(flags);
    const minutes = int(flags, 'minutes');
    if (!minutes) throw new CliError('--minutes: required, a whole number of minutes');
    const id = (await resolveWorkspace(ctx, positionals[0])).id;
    const ws = await ctx.client.extend(id, minutes);
    emit(ctx, ws, `${ws.name}  ${id}  deadline ${ws.deadline}`);
    return 0;
  },
};
