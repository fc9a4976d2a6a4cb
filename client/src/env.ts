import { z } from 'zod';

const variable = (description: string) => z.string().optional().describe(description);

/**
 * Every environment variable the SDK and `wsh` read; they read only through
 * `clientEnv()`, and docs/ARCHITECTURE.md's table shows these descriptions
 * (`npm run docs` rewrites it).
 */
export const ClientEnvSchema = z.object({
  WSH_HUB: variable('Hub URL or name, when `--hub` is not given (else the hub last logged in to).'),
  WSH_DEV_EMAIL: variable('Identity on a local hub (`HUB_AUTH=dev`), as `wsh login --dev EMAIL`.'),
  WSH_CONFIG_DIR: variable(
    'Folder of hubs, device id and device key, every file mode 0600 (default `~/.config/wsh`).',
  ),
  WSH_DEVICE_ID: variable('Overrides this device’s generated id.'),
  WSH_TRANSPORT: variable(
    '`direct` or `iap`: how `wsh ssh` reaches the agent (default: `direct` with a dev identity, `iap` otherwise).',
  ),
  WSH_IAP_RELAY_URL: variable('Another IAP TCP forwarding relay (the fake in `testing/`).'),
  WSH_SSH_CONFIG: variable('File `wsh config-ssh` manages (default `~/.ssh/config`).'),
  WSH_POLL_MS: variable('Interval of status polls while waiting, in ms (default 1000).'),
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: variable(
    'A file holding a Google access token for the IAP tunnel, as gcloud reads it; unset: Application Default Credentials.',
  ),
});
export type ClientEnv = z.infer<typeof ClientEnvSchema>;

/** The client's variables, read when asked (tests change them between commands). */
export function clientEnv(env: Record<string, string | undefined> = process.env): ClientEnv {
  return ClientEnvSchema.parse(env);
}
