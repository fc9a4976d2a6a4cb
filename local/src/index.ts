export { agentMain, hubUrlOf, localDriver, localServicePorts } from './driver.js';
export { keepEmulatorData, SAVE_EVERY_MS } from './emulator-data.js';
export { startLocalHub } from './hub.js';
export { reconcileRestoredWorkspaces } from './restore.js';
