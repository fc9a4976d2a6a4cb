import { Hono } from 'hono';
import { expect, it } from 'vitest';
import type { HubEnv } from '../env.js';
import { createLogger } from '../log.js';
import { requestLog } from './request-log.js';

it('logs every request but a probe that succeeded, and logs a failing probe', async () => {
  const lines: string[] = [];
  const app = new Hono<HubEnv>();
  app.use(
    '*',
    requestLog(
      createLogger((l) => lines.push(l)),
      'p',
    ),
  );
  let ready = true;
  app.get('/health', (c) => c.json({ ok: true }));
  app.get('/ready', (c) => (ready ? c.json({ ok: true }) : c.json({ ok: false }, 503)));
  app.get('/workspaces', (c) => c.json([]));

  await app.request('/health');
  await app.request('/ready');
  expect(lines).toEqual([]);

  await app.request('/workspaces');
  await app.request('/nowhere');
  ready = false;
  await app.request('/ready');
  const logged = lines.map((l) => JSON.parse(l));
  expect(logged.map((l) => [l.severity, l.message])).toEqual([
    ['INFO', 'GET /workspaces 200'],
    ['WARNING', 'GET /nowhere 404'],
    ['ERROR', 'GET /ready 503'],
  ]);
});
