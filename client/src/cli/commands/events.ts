import type { EventActor, WorkspaceEvent } from '@workspace-hub/api';
import { createContext } from '../context.js';
import { CliError } from '../errors.js';
import { emit, table } from '../output.js';
import { type Command, int } from './types.js';

/** Who or what, in a few words: "alice@x (laptop)", "idle sweep (4 h idle)", "Compute Engine: …". */
export function actorText(actor: EventActor): string {
  switch (actor.kind) {
    case 'owner':
    case 'admin': {
      const who = `${actor.email ?? actor.kind}${actor.kind === 'admin' ? ' (admin)' : ''}`;
      return actor.device_id ? `${who} from ${actor.device_id}` : who;
    }
    case 'idle_sweep':
      return `idle sweep (${actor.idle_minutes ?? '?'} min idle)`;
    case 'cleanup':
      return 'cleanup sweep';
    case 'reconcile':
      return `reconcile${actor.via ? ` (${actor.via})` : ''}: VM ${actor.instance_status ?? '?'}`;
    case 'compute_engine':
      return `Compute Engine: ${actor.gce_event ?? '?'}${actor.instance_status ? `, VM ${actor.instance_status}` : ''}`;
    case 'agent':
      return 'agent';
  }
}

function row(e: WorkspaceEvent): string[] {
  const outcome = e.error ? `${e.outcome} (${e.error.code})` : e.outcome;
  return [
    e.at,
    actorText(e.actor),
    e.action,
    outcome,
    `${e.status_before ?? '-'} → ${e.status_after ?? 'removed'}`,
    e.reason ?? '',
  ];
}

export const events: Command = {
  usage: 'events WS [--limit N] [--all]',
  summary: 'What happened to a workspace, newest first: who or what, the action and its outcome',
  options: { limit: { type: 'string' }, all: { type: 'boolean' } },
  async run({ flags, positionals }) {
    const id = positionals[0];
    if (!id) throw new CliError('usage: wsh events WS [--limit N] [--all]');
    const ctx = createContext(flags);
    const limit = int(flags, 'limit', 20)!;
    if (limit < 1 || limit > 100) throw new CliError('--limit: 1 to 100');
    const list: WorkspaceEvent[] = [];
    let pageToken: string | undefined;
    do {
      const page = await ctx.client.listEvents(id, { limit, pageToken });
      list.push(...page.events);
      pageToken = (flags.all && page.next_page_token) || undefined;
    } while (pageToken);
    const human = list.length
      ? table([['WHEN', 'WHO', 'ACTION', 'OUTCOME', 'STATUS', 'REASON'], ...list.map(row)])
      : `no events for ${id}`;
    emit(ctx, { events: list }, human);
    return 0;
  },
};
