import type { Firestore } from '@google-cloud/firestore';
import type {
  AgentTokenStore,
  ComputeDriver,
  HubConnectionKeyStore,
  KeyStore,
  OrphanStore,
  ProvisionDeps,
  SyncStore,
  WorkspaceStore,
} from '@workspace-hub/core';
import type { AgentLink } from './agent-link/index.js';
import type { CertSource, Verifier } from './auth/identity.js';
import type { HubConfig } from './config.js';
import type { FirestoreReadiness } from './firestore-readiness.js';
import type { Logger } from './log.js';

/** Everything the routes need, built once by `wiring.ts` (or a test). */
export interface HubDeps {
  config: HubConfig;
  /**
   * The Firestore client the stores share, held here only to probe readiness
   * and to close it at shutdown: every read and write goes through a store.
   */
  db: Firestore;
  /** Whether Firestore answers (readiness, 503s during an outage). */
  firestore: FirestoreReadiness;
  store: WorkspaceStore;
  keys: KeyStore;
  sync: SyncStore;
  agentTokens: AgentTokenStore;
  /** Keys the hub registered for its own SSH connections to agents (browser terminal, files). */
  connectionKeys: HubConnectionKeyStore;
  /** SSH connections to workspace agents on a user's behalf (`agent-link/README.md`). */
  agentLink: AgentLink;
  orphans: OrphanStore;
  driver: ComputeDriver;
  /** Verifies users (per HUB_AUTH). */
  verifier: Verifier;
  /** Google's keys for instance identity and Scheduler OIDC tokens. */
  googleCerts: CertSource;
  log: Logger;
  instanceExtras: ProvisionDeps['instanceExtras'];
  now(): Date;
  /** The built web page to serve at `/` (default: web/dist beside the hub's dist). */
  webDir?: string;
}

/**
 * Builds a driver the hub does not build itself: the `local` one, which
 * `npm start` (the `local` package) wires with the vm-agent it runs.
 */
export type DriverFactory = (parts: {
  config: HubConfig;
  agentTokens: AgentTokenStore;
}) => ComputeDriver | Promise<ComputeDriver>;
