export { connectAsGcloud } from './connect-request.js';
export {
  type GcloudTunnel,
  hasGcloud,
  startComputeStub,
  startGcloudTunnel,
} from './gcloud-tunnel.js';
export {
  type IapRelay,
  type IapRelayOptions,
  type IapRelayRequest,
  type IapRelayTarget,
  startIapRelay,
} from './relay.js';
export {
  startEchoTarget,
  startSinkTarget,
  startSourceTarget,
  type TcpTarget,
} from './tcp-targets.js';
