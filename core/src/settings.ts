/**
 * What a configuration needs from core, without core's stores and clients
 * (`@workspace-hub/core/settings`): the hub validates its settings before it listens, and
 * importing core's index would load Firestore's and Compute's clients (about 2,000 modules,
 * seconds on a busy instance) before Cloud Run's startup probe could be answered.
 */
export {
  IMAGE_DIGEST,
  type ImageReference,
  imageTagOf,
  parseImageReference,
} from './image-reference.js';
// Type-only: erased at runtime, so provision.ts and what it imports are not loaded.
export type { ProvisionPolicy } from './provision.js';
export { SUSPENDED_LIMIT_ACTIONS } from './suspend-limit.js';

/** How long workspace events are kept by default (`HUB_EVENTS_RETENTION_DAYS`). */
export const DEFAULT_EVENT_RETENTION_DAYS = 30;
