#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { HubApiError } from '../sdk/errors.js';
import { configSsh } from './commands/config-ssh.js';
import { doctor } from './commands/doctor.js';
import { login } from './commands/login.js';
import { keys, sessions, ssh, tunnel } from './commands/ssh.js';
import { sync } from './commands/sync.js';
import type { Command, OptionSpec } from './commands/types.js';
import { create, extend, ls, rm, start, status, stop } from './commands/workspaces.js';
import { CliError, reasonOf } from './errors.js';
import { table } from './output.js';

const commands: Record<string, Command> = {
  login,
  ls,
  create,
  status,
  start,
  stop,
  rm,
  extend,
  keys,
  ssh,
  tunnel,
  sessions,
  'config-ssh': configSsh,
  sync,
  doctor,
};

const globalOptions: OptionSpec = {
  hub: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'wsh: Workspace Hub client',
    '',
    table(Object.values(commands).map((c) => [`  wsh ${c.usage}`, c.summary])),
    '',
    'Every command takes --hub URL|NAME (or WSH_HUB) and --json.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new CliError(`unknown command: ${name} (see wsh --help)`, 2);
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
  const { message, code, exit } = reasonOf(err);
  if (process.argv.includes('--json'))
    process.stdout.write(
      `${JSON.stringify({ error: { code, message, ...(err instanceof HubApiError ? { status: err.status, field: err.field, current_status: err.currentStatus } : {}) } })}\n`,
    );
  process.stderr.write(`wsh: ${message}\n`);
  process.exitCode = exit;
}
