import { z } from 'zod';

/** How the hub identifies users (`HUB_AUTH`). */
export const AuthMode = z.enum(['cloud-run-iam', 'iap', 'id-token', 'dev']);
export type AuthMode = z.infer<typeof AuthMode>;

/**
 * `GET /config`: what a create may ask for on this hub, so a client offers only that
 * (the web page's create form). Read from the hub's configuration; nothing per user.
 */
export const HubSettings = z.object({
  auth: AuthMode,
  /** Zones a create may name; the first is not special, `default_zone` is. */
  zones: z.array(z.string()),
  default_zone: z.string(),
  /** Machine types a create may name; empty: any. */
  machine_types: z.array(z.string()),
  default_machine_type: z.string(),
  /** Idle timeout of a create that names none, in minutes. */
  idle_timeout_minutes: z.number().int(),
  /** Most `POST …/extend` asks for, in minutes. */
  max_extend_minutes: z.number().int(),
});
export type HubSettings = z.infer<typeof HubSettings>;
