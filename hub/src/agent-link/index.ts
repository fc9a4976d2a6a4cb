export type { AgentLease, TerminalSize } from './agent-lease.js';
export { AgentLink, type AgentLinkOptions, type AgentUser, HUB_DEVICE_ID } from './agent-link.js';
export { AgentLinkError } from './agent-link-error.js';
