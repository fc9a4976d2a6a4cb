export { renderCloudConfig } from './render.js';
export {
  agentEnvironment,
  HOME_DEVICE,
  HOME_DISK_DEVICE_NAME,
  IAP_TCP_FORWARDING_RANGE,
  SECRETS_DIR,
} from './scripts.js';
export { shellQuote } from './shell.js';
export {
  ARTIFACT_REGISTRY_IMAGE,
  artifactRegistryHost,
  CloudConfigSpec,
  CloudConfigSpecError,
  IMAGE_MAX_LENGTH,
  IPV4_RANGE,
  Ipv4RangeField,
  parseCloudConfigSpec,
  type ResolvedCloudConfigSpec,
  SECRET_NAME,
  SecretNameField,
} from './spec.js';
