import { type ServerType, serve } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { type ComputeDriver, createGceDriver } from '@workspace-hub/core';
import {
  type CloudRunFrontDoor,
  type ComputeFake,
  GCLOUD_CLIENT_ID,
  googleClaims,
  rsaSigner,
  startCloudRunFrontDoor,
  startComputeFake,
  type TestSigner,
} from '@workspace-hub/testing';
import { testFirestore } from '@workspace-hub/testing/vitest';
import { createApp } from '../src/app.js';
import type { CertSource } from '../src/auth/identity.js';
import { loadConfig } from '../src/config.js';
import type { HubDeps } from '../src/deps.js';
import type { HubEnv } from '../src/env.js';
import { createLogger } from '../src/log.js';
import { buildDeps, verifierFor } from '../src/wiring.js';

export const HUB_URL = 'https://hub.example.test';
export const ZONE = 'europe-west1-b';
/** The workspace VMs' service account: the `email` of their identity tokens. */
export const WORKSPACE_SA = 'workspace-hub-vm@acme-dev-123.iam.gserviceaccount.com';

/** Run the hub as the Terraform module deploys it: behind Cloud Run's invoker check. */
export interface BehindCloudRun {
  /** Members of roles/run.invoker on the hub service (the module: team, Scheduler, VM accounts). */
  invokers: string[];
}

export interface TestHub {
  app: OpenAPIHono<HubEnv>;
  deps: HubDeps;
  fake: ComputeFake;
  logs: string[];
  /** The Cloud Run front door the hub sits behind, when started `behindCloudRun`. */
  door: CloudRunFrontDoor | null;
  /**
   * A request as `email` unless `headers.authorization` is given: a dev identity, or behind
   * Cloud Run the user's `gcloud auth print-identity-token` (gcloud's client id as audience).
   */
  call(
    method: string,
    path: string,
    opts?: { as?: string; body?: unknown; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Signs a GCE instance identity token for the workspace (as its agent would present). */
  identityToken(
    ws: { project_id: string; zone: string; instance_name: string },
    aud?: string,
  ): string;
  /** Lets the agent of `id` report ready (with its identity token). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  agentReady(id: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * The hub as Cloud Run runs it (gce driver, real Firestore emulator, the real
 * Compute client against the REST fake), driven in-process through Hono.
 */
export async function startTestHub(
  env: Record<string, string> = {},
  opts: {
    verifierCerts?: CertSource;
    now?: () => Date;
    googleSigner?: TestSigner;
    behindCloudRun?: BehindCloudRun;
    /** The built web page the hub serves at `/`. */
    webDir?: string;
  } = {},
): Promise<TestHub> {
  const { db, projectId } = testFirestore();
  const fake = await startComputeFake({ project: projectId });
  const google = opts.googleSigner ?? rsaSigner();
  const door = opts.behindCloudRun
    ? await startCloudRunFrontDoor({
        serviceUrls: [HUB_URL],
        invokers: opts.behindCloudRun.invokers,
        certs: google.certs,
      })
    : null;
  const config = loadConfig({
    HUB_DRIVER: 'gce',
    HUB_AUTH: 'dev',
    HUB_URL,
    GOOGLE_CLOUD_PROJECT: projectId,
    HUB_ZONE: ZONE,
    HUB_COMPUTE_ENDPOINT: fake.endpoint,
    HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/acme-dev-123/workspace-hub/workspace:v1',
    ...door?.containerEnv,
    // The front door stands in for the service URL: agents mint their tokens for it.
    ...(door ? { HUB_URL: door.url } : {}),
    ...env,
  });
  const driver: ComputeDriver = createGceDriver({
    projectId,
    endpoint: fake.endpoint,
    authClient: fake.authClient,
  });
  const logs: string[] = [];
  const deps = await buildDeps(config, {
    db,
    driver,
    verifier: verifierFor(config, opts.verifierCerts),
    googleCerts: async () => google.certs,
    log: createLogger((l) => logs.push(l)),
    now: opts.now,
  });
  if (opts.webDir) deps.webDir = opts.webDir;
  const app = createApp(deps);
  // Requests the server is still handling when the test closes: their Firestore
  // calls must end before the client is terminated, or they reject unhandled.
  const inFlight = new Set<Promise<unknown>>();
  const serveTracked = async (req: Request) => {
    const answer = Promise.resolve(app.fetch(req));
    inFlight.add(answer);
    try {
      return await answer;
    } finally {
      inFlight.delete(answer);
    }
  };
  const server: ServerType | null = door
    ? await new Promise((resolve) => {
        const s = serve({ fetch: serveTracked, port: config.PORT, hostname: '127.0.0.1' }, () =>
          resolve(s),
        );
      })
    : null;
  const userToken = (email: string) =>
    door
      ? google.sign(
          googleClaims(GCLOUD_CLIENT_ID, { sub: `sub-${email}`, email, email_verified: true }),
        )
      : `dev:${email}`;
  const hub: TestHub = {
    app,
    deps,
    fake,
    logs,
    door,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (!('authorization' in headers) && o.as)
        headers.authorization = `Bearer ${userToken(o.as)}`;
      if (o.body !== undefined) headers['content-type'] ??= 'application/json';
      const init = {
        method,
        headers,
        body:
          o.body === undefined
            ? undefined
            : typeof o.body === 'string'
              ? o.body
              : JSON.stringify(o.body),
      };
      const res = door ? await fetch(`${door.url}${path}`, init) : await app.request(path, init);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, body, headers: res.headers };
    },
    identityToken(ws, aud = config.HUB_URL ?? HUB_URL) {
      return google.sign(
        googleClaims(aud, {
          sub: '1234567890',
          azp: '1234567890',
          email: WORKSPACE_SA,
          email_verified: true,
          google: {
            compute_engine: {
              project_id: ws.project_id,
              zone: ws.zone,
              instance_name: ws.instance_name,
              instance_id: '42',
            },
          },
        }),
      );
    },
    async agentReady(id) {
      const ws = (await deps.store.get(id))!;
      return hub.call('POST', '/agent/ready', {
        headers: { ...agentHeaders(hub.identityToken(ws)), 'x-workspace-id': id },
        body: {
          workspace_id: id,
          agent_version: '0.1.0',
          host_key_fingerprint: `SHA256:${'A'.repeat(43)}`,
          port: 2222,
        },
      });
    },
    async close() {
      if (server) {
        if ('closeAllConnections' in server) server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
      await door?.close();
      await Promise.allSettled(inFlight);
      await driver.close?.();
      await fake.close();
      await db.terminate();
    },
  };
  return hub;
}

/** How the vm-agent presents its identity token: once for Cloud Run's check, once for the hub. */
export const agentHeaders = (token: string) => ({
  'x-serverless-authorization': `Bearer ${token}`,
  authorization: `Bearer ${token}`,
});

/** A clock tests move by hand; the real clock until then. */
export function manualClock() {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

/** Polls `GET …/status` until the workspace is in `status` (reconcile-on-read drives it). */
export async function waitForStatus(
  hub: TestHub,
  id: string,
  as: string,
  status: string,
  timeoutMs = 15_000,
) {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    const r = await hub.call('GET', `/workspaces/${id}/status`, { as });
    last = r.body;
    if (r.status === 200 && r.body.workspace.status === status) return r.body;
    if (status === 'GONE' && r.status === 404) return null;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`workspace ${id} did not reach ${status}; last: ${JSON.stringify(last)}`);
}

export { googleClaims };
