import {
  AgentTokenStore,
  type ComputeDriver,
  createFirestore,
  EventStore,
  HubConnectionKeyStore,
  KeyStore,
  OrphanStore,
  SyncStore,
  WorkspaceStore,
} from '@workspace-hub/core';
import { AgentLink } from './agent-link/index.js';
import { googleCerts, iapCerts } from './auth/google-jwt.js';
import type { CertSource, Verifier } from './auth/identity.js';
import {
  cloudRunIamVerifier,
  devVerifier,
  iapVerifier,
  idTokenVerifier,
} from './auth/verifiers.js';
import { ConfigError, type HubConfig, LOCAL_DRIVER_NOT_WIRED } from './config.js';
import type { DriverFactory, HubDeps } from './deps.js';
import { FirestoreReadiness } from './firestore-readiness.js';
import { buildInstanceExtras } from './instance-extras.js';
import { createLogger } from './log.js';

/** The configured user verifier; `certs` replaces Google's/IAP's keys (tests sign their own). */
export function verifierFor(config: HubConfig, certs?: CertSource): Verifier {
  switch (config.HUB_AUTH) {
    case 'dev':
      return devVerifier();
    case 'cloud-run-iam':
      return cloudRunIamVerifier();
    case 'id-token':
      return idTokenVerifier({ audience: config.HUB_URL!, certs: certs ?? googleCerts });
    case 'iap':
      return iapVerifier({ audience: config.HUB_IAP_AUDIENCE!, certs: certs ?? iapCerts });
  }
}

async function driverFor(
  config: HubConfig,
  agentTokens: AgentTokenStore,
  factory: DriverFactory | undefined,
): Promise<ComputeDriver> {
  if (factory) return factory({ config, agentTokens });
  if (config.HUB_DRIVER === 'local') throw new ConfigError(`HUB_DRIVER: ${LOCAL_DRIVER_NOT_WIRED}`);
  const { createGceDriver } = await import('@workspace-hub/core');
  return createGceDriver({
    projectId: config.GOOGLE_CLOUD_PROJECT,
    endpoint: config.HUB_COMPUTE_ENDPOINT,
    network: config.HUB_NETWORK,
    subnetwork: config.HUB_SUBNETWORK,
    serviceAccount: config.HUB_WORKSPACE_SA,
    externalIp: config.HUB_WORKSPACE_EXTERNAL_IP,
    // The hub never waits on an operation (DESIGN: lifecycle rules). GCE refuses
    // suspend when the call is made (GPUs, > 60 days); a refusal that came only
    // with the operation would reach reconcile as ERROR with GCE's message.
    suspendRefusalWaitMs: 0,
  });
}

/**
 * Builds the hub's dependencies from its configuration. `parts` replaces
 * single pieces (tests: a Compute fake's driver, test signing keys) while
 * everything else is wired as in production.
 */
export async function buildDeps(
  config: HubConfig,
  parts: Partial<Pick<HubDeps, 'db' | 'driver' | 'verifier' | 'googleCerts' | 'log' | 'now'>> & {
    driverFactory?: DriverFactory | undefined;
  } = {},
): Promise<HubDeps> {
  const db =
    parts.db ?? createFirestore(config.GOOGLE_CLOUD_PROJECT, config.FIRESTORE_EMULATOR_HOST);
  const agentTokens = new AgentTokenStore(db);
  const connectionKeys = new HubConnectionKeyStore(db);
  const driver = parts.driver ?? (await driverFor(config, agentTokens, parts.driverFactory));
  const log = parts.log ?? createLogger();
  const now = parts.now ?? (() => new Date());
  return {
    config,
    db,
    firestore: FirestoreReadiness.of(db),
    store: new WorkspaceStore(db, {
      events: new EventStore(db, { retentionDays: config.HUB_EVENTS_RETENTION_DAYS }),
      warn: (message, fields) => log.warn(message, fields),
    }),
    keys: new KeyStore(db),
    sync: new SyncStore(db),
    agentTokens,
    connectionKeys,
    agentLink: new AgentLink({ driver, connectionKeys, log, now }),
    orphans: new OrphanStore(db),
    driver,
    verifier: parts.verifier ?? verifierFor(config),
    googleCerts: parts.googleCerts ?? googleCerts,
    log,
    instanceExtras: buildInstanceExtras(config, agentTokens),
    now,
  };
}
