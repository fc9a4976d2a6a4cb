import { clientEnv } from '../../env.js';
import { devTokenProvider, googleIdTokenProvider } from '../../sdk/auth.js';
import { HubClient } from '../../sdk/hub-client.js';
import { CliConfig } from '../config.js';
import { hubNameOf, resolveHub } from '../context.js';
import { CliError } from '../errors.js';
import { emit } from '../output.js';
import { type Command, str } from './types.js';

export const login: Command = {
  usage: 'login [--hub URL] [--name NAME] [--dev EMAIL]',
  summary: 'Remember a hub (dev identity for local hubs, Google credentials otherwise)',
  options: { dev: { type: 'string' }, name: { type: 'string' } },
  async run({ flags }) {
    const config = new CliConfig();
    const wanted = str(flags, 'hub') ?? clientEnv().WSH_HUB;
    const { name: knownName, entry } = resolveHub(config, wanted);
    const devEmail = str(flags, 'dev') || clientEnv().WSH_DEV_EMAIL || entry.dev_email;
    const name = str(flags, 'name') ?? (knownName || hubNameOf(entry.url));
    const client = new HubClient({
      url: entry.url,
      token: devEmail ? devTokenProvider(devEmail) : googleIdTokenProvider(entry.url),
    });
    // Prove the credentials work before remembering the hub.
    try {
      await client.listWorkspaces({ limit: 1 });
    } catch (err) {
      throw new CliError(`login to ${entry.url} failed: ${(err as Error).message}`);
    }
    const file = config.read();
    file.hubs[name] = { url: entry.url, dev_email: devEmail || null };
    file.current = name;
    config.write(file);
    const deviceId = config.deviceId();
    emit(
      { json: Boolean(flags.json) },
      {
        hub: name,
        url: entry.url,
        identity: devEmail ? `dev:${devEmail}` : 'google',
        device_id: deviceId,
      },
      `logged in to ${name} (${entry.url}) as ${devEmail || 'your Google identity'}; device ${deviceId}`,
    );
    return 0;
  },
};
