export { type AgentConfig, ConfigError, loadConfig } from './config.js';
export { setLogSink } from './log.js';
export { type RunningAgent, startAgent } from './server.js';
export { AGENT_VERSION } from './version.js';
