import type { AgentConfig } from './config.js';
import { log } from './log.js';
import { sleep } from './metadata.js';
import { checkSecretsDir, fetchSecrets } from './secrets.js';

/** How long the hub's ready report waits for the secrets; the fetch goes on after that. */
const SECRETS_READY_WAIT_MS = 30_000;

/**
 * Copies the configured secrets into the secrets tmpfs, waiting at most
 * SECRETS_READY_WAIT_MS: SSH is up already, the hub hears "ready" after this.
 * `signal` stops the fetch (the agent is closing).
 */
export async function fetchSecretsBeforeReady(
  config: AgentConfig,
  signal: AbortSignal,
): Promise<void> {
  if (!config.secretsDir) return;
  if (config.secretNames.length === 0) {
    void checkSecretsDir(config.secretsDir);
    return;
  }
  const fetching = fetchSecrets({
    dir: config.secretsDir,
    names: config.secretNames,
    project: config.project,
    endpoint: config.secretManagerEndpoint,
    metadataHost: config.metadataHost,
    signal,
  }).then(
    () => true,
    // fetchSecrets does not throw; if it ever did, its message is not logged (it could quote a value).
    (err: unknown) => {
      log('ERROR', 'fetching secrets failed unexpectedly', { error: (err as Error)?.name });
      return true;
    },
  );
  const waitOver = new AbortController();
  const done = await Promise.race([
    fetching,
    sleep(SECRETS_READY_WAIT_MS, waitOver.signal).then(() => false),
  ]);
  waitOver.abort();
  if (!done)
    log('WARNING', 'secrets still being fetched; reporting ready anyway', {
      waited_seconds: SECRETS_READY_WAIT_MS / 1000,
    });
}
