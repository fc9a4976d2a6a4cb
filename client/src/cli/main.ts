#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { HubApiError } from '../sdk/errors.js';
import { type Command, flagOfField, type OptionSpec } from './commands/types.js';
import { CliError, reasonOf } from './errors.js';
import { table } from './output.js';

// Each command's module is loaded only when that command runs: `wsh ls` and the ssh
// ProxyCommand `wsh tunnel --stdio` start often, and must not pay for the IAP tunnel, ws,
// doctor or sync they do not use (src/cli/imports.test.ts).
const workspaces = () => import('./commands/workspaces.js');
const sshCommands = () => import('./commands/ssh.js');
const commands: Record<string, () => Promise<Command>> = {
  login: () => import('./commands/login.js').then((m) => m.login),
  ls: () => workspaces().then((m) => m.ls),
  create: () => workspaces().then((m) => m.create),
  status: () => workspaces().then((m) => m.status),
  start: () => workspaces().then((m) => m.start),
  stop: () => workspaces().then((m) => m.stop),
  rm: () => workspaces().then((m) => m.rm),
  rename: () => workspaces().then((m) => m.rename),
  extend: () => workspaces().then((m) => m.extend),
  events: () => import('./commands/events.js').then((m) => m.events),
  keys: () => sshCommands().then((m) => m.keys),
  ssh: () => sshCommands().then((m) => m.ssh),
  tunnel: () => sshCommands().then((m) => m.tunnel),
  sessions: () => sshCommands().then((m) => m.sessions),
  'config-ssh': () => import('./commands/config-ssh.js').then((m) => m.configSsh),
  sync: () => import('./commands/sync.js').then((m) => m.sync),
  doctor: () => import('./commands/doctor.js').then((m) => m.doctor),
  dashboard: () => import('./commands/dashboard.js').then((m) => m.dashboard),
};

const globalOptions: OptionSpec = {
  hub: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

async function help(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map((load) => load()));
  return [
    'wsh: Workspace Hub client',
    '',
    table(all.map((c) => [`  wsh ${c.usage}`, c.summary])),
    '',
    'Every command takes --hub URL|NAME (or WSH_HUB) and --json.',
  ].join('\n');
}

/** The command being run, whose flags name the request fields a refusal may point at. */
let running: Command | undefined;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${await help()}\n`);
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) throw new CliError(`unknown command: ${name} (see wsh --help)`, 2);
  const command = await load();
  running = command;
  const parsed = parseArgs({
    args,
    options: { ...globalOptions, ...command.options },
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  if (parsed.values.help) {
    process.stdout.write(`usage: wsh ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  const terminator = parsed.tokens.find((t) => t.kind === 'option-terminator');
  const restFrom = terminator ? terminator.index + 1 : args.length;
  const rest = args.slice(restFrom);
  const positionals = parsed.positionals.slice(0, parsed.positionals.length - rest.length);
  return (await command.run({ flags: parsed.values, positionals, rest })) ?? 0;
}

// google-auth-library probes for a metadata server and warns when there is none: not the user's concern.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'MetadataLookupWarning') process.stderr.write(`wsh: warning: ${w.message}\n`);
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // The JSON error keeps the hub's own words (its field names); a person is told the flag.
  const { message: detail, code, exit } = reasonOf(err);
  const { message } = reasonOf(err, (field) => flagOfField(running?.options, field));
  if (process.argv.includes('--json'))
    process.stdout.write(
      `${JSON.stringify({ error: { code, message: detail, ...(err instanceof HubApiError ? { status: err.status, field: err.field, current_status: err.currentStatus } : {}) } })}\n`,
    );
  process.stderr.write(`wsh: ${message}\n`);
  process.exitCode = exit;
}
