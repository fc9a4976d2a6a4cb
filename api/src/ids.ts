import { z } from 'zod';

/** `ws-` + 10 lowercase base32 characters; also the GCE instance name. */
export const WORKSPACE_ID_PATTERN = /^ws-[a-z2-7]{10}$/;
export const WorkspaceId = z.string().regex(WORKSPACE_ID_PATTERN, 'must look like ws-abcdefgh23');

/** A device's id, as `wsh` generates it (or `WSH_DEVICE_ID` sets it). */
export const DeviceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');

/** A Compute Engine resource name (RFC 1035), e.g. a machine type. */
export const ResourceName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1035 name');
