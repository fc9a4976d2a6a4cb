export { closeCodeError, IapTunnelError } from './errors.js';
export {
  type IapTunnelListener,
  type IapTunnelListenOptions,
  listenIapTunnel,
  openIapTunnel,
  pipeStdio,
} from './open.js';
export { DEFAULT_RELAY_URL, type IapTunnelOptions } from './options.js';
export { IapTunnelStream } from './tunnel-stream.js';
