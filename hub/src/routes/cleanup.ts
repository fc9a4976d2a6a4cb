import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { HubError, sweep } from '@workspace-hub/core';
import type { Context } from 'hono';
import { z } from 'zod';
import { claimsCheckedByCloudRun } from '../auth/cloud-run.js';
import { verifyHubToken } from '../auth/hub-token.js';
import { bearerToken } from '../auth/identity.js';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { json, problemResponses } from './schemas.js';

const SweepSummary = z.object({
  suspended: z.number().int(),
  stopped_at_limit: z.number().int(),
  deleted: z.number().int(),
  repaired: z.number().int(),
  orphans_quarantined: z
    .number()
    .int()
    .describe('Orphan instances this sweep stopped and labelled workspace-hub-quarantined'),
  orphans_seen: z.number().int(),
  orphans: z
    .array(
      z.object({
        zone: z.string(),
        name: z.string(),
        first_seen: z.string(),
        quarantined: z.boolean(),
      }),
    )
    .describe(
      'Instances of this hub with no workspace document; a quarantined one is kept (stopped, disks kept) until an admin calls DELETE /admin/orphans/{zone}/{instance}',
    ),
  events_deleted: z
    .number()
    .int()
    .describe('Events deleted: of removed workspaces, and expired ones where no TTL policy runs'),
  errors: z.array(z.object({ workspace_id: z.string(), action: z.string(), message: z.string() })),
});

const cleanupRoute = createRoute({
  method: 'post',
  path: '/cleanup',
  tags: ['operations'],
  security: [{ bearer: [] }],
  summary: 'One cleanup sweep (Cloud Scheduler’s OIDC token, or an admin)',
  responses: { 200: json(SweepSummary, 'What the sweep did'), ...problemResponses },
});

function claimsOf(token: string): { email?: string } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return {};
  }
}

/**
 * Whether the caller is the Scheduler job. Cloud Scheduler sends its OIDC token
 * in Authorization. Behind Cloud Run's invoker check (HUB_AUTH=cloud-run-iam)
 * it arrives with its signature removed: the hub then trusts the claims Cloud
 * Run checked (Google's signature, the hub URL or a custom audience, expiry,
 * run.invoker, which the module grants this account alone besides users and
 * VMs) and requires the email to be HUB_SCHEDULER_SA. Otherwise the hub
 * verifies the token itself: signature, audience = HUB_URL, expiry, email.
 */
async function isScheduler(deps: HubDeps, c: Context, sa: string): Promise<boolean> {
  if (deps.config.HUB_AUTH === 'cloud-run-iam') {
    const email = claimsCheckedByCloudRun(c).email;
    return typeof email === 'string' && email.toLowerCase() === sa;
  }
  const token = bearerToken(c.req.header('authorization'));
  if (!token || claimsOf(token).email?.toLowerCase() !== sa) return false;
  const payload = await verifyHubToken(
    deps,
    token,
    'Cloud Run removed the Scheduler token’s signature: behind Cloud Run IAM the hub must run with HUB_AUTH=cloud-run-iam',
  );
  if (payload.email?.toLowerCase() !== sa || payload.email_verified === false)
    throw new HubError('permission_denied', 'not the Scheduler service account');
  return true;
}

/** The Scheduler's service account, or an admin through the normal user verifier. */
async function authorizeCleanup(deps: HubDeps, c: Context): Promise<string> {
  const sa = deps.config.schedulerSa;
  if (sa && (await isScheduler(deps, c, sa))) return sa;
  const caller = await deps.verifier(c);
  if (!deps.config.access.admins.includes(caller.email))
    throw new HubError('permission_denied', 'cleanup is for the Scheduler job and admins');
  return caller.email;
}

export function registerCleanupRoute(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(cleanupRoute, async (c) => {
    const who = await authorizeCleanup(deps, c);
    const summary = await sweep(deps, {
      now: deps.now(),
      retentionDays: deps.config.HUB_RETENTION_DAYS,
      suspendedLimitAction: deps.config.HUB_SUSPENDED_LIMIT_ACTION,
      // The emulator runs no TTL policy: the sweep deletes expired events itself.
      deleteExpiredEvents: deps.config.FIRESTORE_EMULATOR_HOST !== undefined,
      zones: deps.config.zones,
    });
    c.get('log').info('cleanup sweep', { by: who, ...summary, errors: summary.errors.length });
    return c.json(summary, 200);
  });
}
