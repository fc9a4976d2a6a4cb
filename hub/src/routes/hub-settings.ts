import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { HubSettings } from '@workspace-hub/core';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { json, problemResponses } from './schemas.js';

const settingsRoute = createRoute({
  method: 'get',
  path: '/config',
  tags: ['me'],
  security: [{ bearer: [] }],
  summary: 'What a create may ask for on this hub (zones, machine types) and its defaults',
  responses: {
    200: json(HubSettings, 'This hub’s settings for new workspaces'),
    ...problemResponses,
  },
});

export function registerHubSettingsRoute(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  const policy = deps.config.provisioning;
  const settings: HubSettings = {
    auth: deps.config.HUB_AUTH,
    zones: [...policy.allowedZones],
    default_zone: policy.defaultZone,
    machine_types: [...policy.allowedMachineTypes],
    default_machine_type: policy.defaultMachineType,
    idle_timeout_minutes: policy.idleTimeoutMinutes,
    max_extend_minutes: deps.config.HUB_MAX_EXTEND_MINUTES,
  };
  app.openapi(settingsRoute, (c) => c.json(settings, 200));
}
