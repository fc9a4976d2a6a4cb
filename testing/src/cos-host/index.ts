export { bootCosHost, type CosHost, type CosHostOptions, UNOPENED_PORT } from './host.js';
export type { VmIdentity } from './metadata-server.js';
export { IAP_SOURCE, OUTSIDE_SOURCE, VM_ADDRESS } from './network.js';
export type { ProbeOutcome } from './probe.js';
