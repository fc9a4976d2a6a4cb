import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HubEnv } from '../env.js';
import { requestHeader } from './request-header.js';

const NAMES = ['X-Cloud-Trace-Context', 'x-forwarded-for', 'accept', 'user-agent', 'x-absent'];
const app = new Hono<HubEnv>();
app.get('/', (c) =>
  c.json(
    NAMES.map((n) => ({ fromNode: requestHeader(c, n) ?? null, web: c.req.header(n) ?? null })),
  ),
);
let server: ReturnType<typeof serve>;
let port: number;

beforeAll(async () => {
  await new Promise<void>((ready) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready());
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

function get(
  headers: [string, string][],
): Promise<{ fromNode: string | null; web: string | null }[]> {
  return new Promise((resolve, reject) => {
    // Raw header pairs, so a header can be sent twice, as proxies do with X-Forwarded-For.
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers: [['Host', `127.0.0.1:${port}`], ...headers].flat(),
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => {
          if (res.statusCode === 200) resolve(JSON.parse(body));
          else reject(new Error(`${res.statusCode} ${body}`));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

it("reads a header from Node's request exactly as the web Request's Headers.get reads it", async () => {
  const answers = await get([
    ['x-cloud-trace-context', '105445aa7843bc8bf206b12000100000/1;o=1'],
    ['X-Forwarded-For', '203.0.113.7'],
    ['X-Forwarded-For', '10.0.0.1'],
    ['Accept', 'text/html'],
    ['Accept', 'application/json'],
    ['User-Agent', 'wsh/0.1'],
  ]);
  for (const a of answers) expect(a.fromNode).toBe(a.web);
  expect(answers.map((a) => a.fromNode)).toEqual([
    '105445aa7843bc8bf206b12000100000/1;o=1',
    '203.0.113.7, 10.0.0.1',
    'text/html, application/json',
    'wsh/0.1',
    null,
  ]);
});
