import { describe, expect, it } from 'vitest';
import { runWsh } from '../../test/local-hub.js';
import { configSsh } from './commands/config-ssh.js';
import { dashboard } from './commands/dashboard.js';
import { doctor } from './commands/doctor.js';
import { events } from './commands/events.js';
import { login } from './commands/login.js';
import { tunnel } from './commands/ssh.js';
import { sync } from './commands/sync.js';
import type { Command } from './commands/types.js';
import * as workspaces from './commands/workspaces.js';

const commands: Record<string, Command> = {
  login,
  ls: workspaces.ls,
  create: workspaces.create,
  start: workspaces.start,
  stop: workspaces.stop,
  rm: workspaces.rm,
  extend: workspaces.extend,
  events,
  tunnel,
  'config-ssh': configSsh,
  sync,
  doctor,
  dashboard,
};

describe('wsh help', () => {
  it.each(Object.entries(commands))(
    '`wsh %s --help` names every option it takes',
    async (name, command) => {
      const r = await runWsh([name, '--help'], { configDir: '/nonexistent', hub: '' });
      expect(r.code, r.stderr).toBe(0);
      for (const option of Object.keys(command.options ?? {}))
        expect(r.stdout, `--${option}`).toContain(`--${option}`);
    },
  );
});
