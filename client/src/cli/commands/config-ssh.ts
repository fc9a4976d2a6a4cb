import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { clientEnv } from '../../env.js';
import { writePrivateFile } from '../config.js';
import { createContext } from '../context.js';
import { ensureDeviceKeyRegistered } from '../device-key.js';
import { nameAlias } from '../host-keys.js';
import { emit } from '../output.js';
import { type SshTarget, sshTargetFor } from '../ssh-target.js';
import { type Command, str } from './types.js';

export function markers(hubName: string): { start: string; end: string } {
  return {
    start: `# ------------START-WSH-HUB ${hubName}------------`,
    end: `# ------------END-WSH-HUB ${hubName}------------`,
  };
}

/** Replaces (or appends) the block between the markers, leaving the rest of the file alone. */
export function replaceManagedBlock(text: string, hubName: string, body: string): string {
  const { start, end } = markers(hubName);
  const block = `${start}\n# Managed by \`wsh config-ssh\`; edits here are overwritten.\n${body}${end}\n`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from >= 0 && to >= 0)
    return text.slice(0, from) + block + text.slice(to + end.length).replace(/^\n/, '');
  const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  return text + sep + block;
}

function hostBlock(target: SshTarget): string {
  const lines = target.options.map(
    ([k, v]) => `  ${k} ${/\s/.test(v) && k !== 'ProxyCommand' ? `"${v}"` : v}`,
  );
  return `Host ${nameAlias(target.ws)} ${target.alias}\n${lines.join('\n')}\n\n`;
}

export const configSsh: Command = {
  usage: 'config-ssh [--ssh-config PATH]',
  summary:
    'Write `Host wsh-<name> wsh-<id>` entries for your workspaces into ~/.ssh/config (run again after a rename)',
  options: { 'ssh-config': { type: 'string' } },
  async run({ flags }) {
    const ctx = createContext(flags);
    const path =
      str(flags, 'ssh-config') ?? clientEnv().WSH_SSH_CONFIG ?? join(homedir(), '.ssh', 'config');
    const key = await ensureDeviceKeyRegistered(ctx);
    const hosts: string[] = [];
    const skipped: { id: string; reason: string }[] = [];
    let body = '';
    for await (const ws of ctx.client.allWorkspaces()) {
      if (!ws.agent || (ctx.local && !ws.agent.port)) {
        skipped.push({ id: ws.id, reason: `${ws.status}, agent not reported yet` });
        continue;
      }
      const target = await sshTargetFor(ctx, ws, key.privateKeyPath);
      body += hostBlock(target);
      hosts.push(nameAlias(ws));
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const after = replaceManagedBlock(before, ctx.hubName, body);
    const changed = after !== before;
    if (changed) writePrivateFile(path, after);
    emit(
      ctx,
      { ssh_config: path, hosts, skipped, changed },
      [
        `${path}: ${hosts.length} host(s)${changed ? '' : ', unchanged'}`,
        ...hosts.map((h) => `  ssh ${h}`),
        ...skipped.map((s) => `  skipped ${s.id}: ${s.reason}`),
      ].join('\n'),
    );
    return 0;
  },
};
