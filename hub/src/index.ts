export { createApp } from './app.js';
export type { Caller, CertSource, Identity, Verifier } from './auth/identity.js';
export { ConfigError, type HubConfig, HubConfigSchema, loadConfig } from './config.js';
export type { DriverFactory, HubDeps } from './deps.js';
export { createLogger, type Logger } from './log.js';
export { type RunningHub, type StartOptions, startHub } from './server.js';
export { HUB_VERSION } from './version.js';
export { buildDeps, verifierFor } from './wiring.js';
