import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComputeFake, startComputeFake } from './server.js';

const PROJECT = 'acme-dev-123';
const ZONE = 'europe-west1-b';
let fake: ComputeFake;
let n = 0;

const auth = { authorization: 'Bearer t', 'content-type': 'application/json' };
const instancesUrl = () =>
  `${fake.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances`;
const opUrl = (op: string) =>
  `${fake.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}/operations/${op}`;

const validBody = (over: Record<string, unknown> = {}) => ({
  name: `ws-fake${++n}`,
  machineType: `zones/${ZONE}/machineTypes/e2-small`,
  disks: [{ boot: true, initializeParams: { sourceImage: 'projects/cos-cloud/global/images/x' } }],
  metadata: { items: [{ key: 'user-data', value: '#cloud-config\n' }] },
  labels: { 'workspace-hub': 'true' },
  ...over,
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  requestId: string = randomUUID(),
) {
  const res = await fetch(`${instancesUrl()}${path}?requestId=${requestId}`, {
    method,
    headers: auth,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: GCE's JSON, inspected field by field
  return { status: res.status, json: (await res.json()) as any };
}

async function insert(over: Record<string, unknown> = {}) {
  const body = validBody(over);
  const res = await call('POST', '', body);
  expect(res.status).toBe(200);
  return { name: body.name as string, op: res.json.name as string, opStatus: res.json.status };
}

beforeAll(async () => {
  fake = await startComputeFake({ project: PROJECT, stepMs: 20, waitLimitMs: 10_000 });
});
afterAll(() => fake.close());

describe('compute fake over plain HTTP', () => {
  it.each([
    ['an invalid name', { name: 'WS_Bad' }, /resource\.name/],
    ['a machine type that is not a zone URL', { machineType: 'e2-small' }, /machineType/],
    ['no boot disk', { disks: [] }, /boot disk/],
    [
      'a machine type in another zone',
      { machineType: 'zones/us-east1-b/machineTypes/e2-small' },
      /must be in zone/,
    ],
    ['no source image', { disks: [{ boot: true, initializeParams: {} }] }, /sourceImage/],
    ['no user-data', { metadata: { items: [] } }, /cloud-config/],
    [
      'user-data that is not cloud-config',
      { metadata: { items: [{ key: 'user-data', value: '#!/bin/sh' }] } },
      /cloud-config/,
    ],
    ['an upper-case label', { labels: { Team: 'x' } }, /label key 'Team'/],
    ['an unknown top-level field', { colour: 'blue' }, /Unknown name "colour"/],
    [
      'a bare network name',
      { networkInterfaces: [{ network: 'hub-net' }] },
      /^Invalid value for field 'resource\.networkInterfaces\[0\]\.network': 'hub-net'\. The URL is malformed\.$/,
    ],
    [
      'a bare subnetwork name',
      { networkInterfaces: [{ subnetwork: 'hub-subnet' }] },
      /networkInterfaces\[0\]\.subnetwork': 'hub-subnet'\. The URL is malformed/,
    ],
    [
      'a subnetwork in another region',
      { networkInterfaces: [{ subnetwork: 'regions/us-east1/subnetworks/hub-subnet' }] },
      /same region/,
    ],
  ])('refuses an insert with %s as GCE would (400 naming the field)', async (_, over, message) => {
    const res = await call('POST', '', validBody(over));
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(message);
    expect(res.json.error.errors[0].reason).toBeTruthy();
  });

  it.each([
    ['partial URLs', 'global/networks/hub-net', 'regions/europe-west1/subnetworks/hub-subnet'],
    [
      'project-qualified URLs',
      `projects/${PROJECT}/global/networks/hub-net`,
      `projects/host-proj/regions/europe-west1/subnetworks/hub-subnet`,
    ],
    [
      'full URLs',
      `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/hub-net`,
      `https://compute.googleapis.com/compute/v1/projects/host-proj/regions/europe-west1/subnetworks/s`,
    ],
  ])('accepts a network and subnetwork given as %s', async (_, network, subnetwork) => {
    await insert({ networkInterfaces: [{ network, subnetwork }] });
  });

  it('refuses a requestId that is not a UUID and a request without credentials', async () => {
    const res = await call('POST', '', validBody(), 'retry-1');
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/requestId/);
    expect((await fetch(instancesUrl())).status).toBe(401);
  });

  it('moves an instance through its statuses and its operation through PENDING → DONE', async () => {
    const { name, op, opStatus } = await insert();
    expect(opStatus).toBe('PENDING');
    // biome-ignore lint/suspicious/noExplicitAny: GCE's JSON
    const waited: any = await (
      await fetch(`${opUrl(op)}/wait`, { method: 'POST', headers: auth })
    ).json();
    expect(waited.status).toBe('DONE');
    expect(fake.instance(name)?.status).toBe('RUNNING');
    const suspend = await call('POST', `/${name}/suspend`);
    expect(fake.instance(name)?.status).toBe('SUSPENDING');
    await fetch(`${opUrl(suspend.json.name)}/wait`, { method: 'POST', headers: auth });
    expect(fake.instance(name)?.status).toBe('SUSPENDED');
    const resume = await call('POST', `/${name}/resume`);
    await fetch(`${opUrl(resume.json.name)}/wait`, { method: 'POST', headers: auth });
    expect(fake.instance(name)?.status).toBe('RUNNING');
    const del = await call('DELETE', `/${name}`);
    await fetch(`${opUrl(del.json.name)}/wait`, { method: 'POST', headers: auth });
    expect((await call('GET', `/${name}`)).status).toBe(404);
  });

  it('refuses transitions GCE refuses, and unknown instances and operations are 404', async () => {
    const { name } = await insert();
    await fake.waitForStatus(name, 'RUNNING');
    fake.setStatus(name, 'TERMINATED');
    const suspend = await call('POST', `/${name}/suspend`);
    expect(suspend.status).toBe(400);
    // As "Troubleshooting suspending and resuming instances" lists GCE's answers.
    expect(suspend.json.error).toMatchObject({
      message: 'You cannot suspend an instance that is stopped or terminated.',
      errors: [{ reason: 'unsupportedOperation' }],
    });
    expect((await call('POST', `/${name}/resume`)).status).toBe(400);
    fake.setStatus(name, 'SUSPENDED');
    expect((await call('POST', `/${name}/suspend`)).json.error).toMatchObject({
      code: 400,
      message: 'You cannot suspend an already suspended instance.',
      errors: [{ reason: 'unsupportedOperation' }],
    });
    expect((await call('POST', '/ws-nobody/stop')).status).toBe(404);
    expect((await fetch(opUrl('operation-404'), { headers: auth })).status).toBe(404);
  });

  it('sets labels only from the current labelFingerprint, as instances.setLabels does', async () => {
    const { name } = await insert();
    const read = async () => (await fetch(`${instancesUrl()}/${name}`, { headers: auth })).json();
    const before = await read();
    expect(before.labelFingerprint).toEqual(expect.any(String));
    const labels = { 'workspace-hub': 'true', held: 'yes' };
    expect((await call('POST', `/${name}/setLabels`, { labels })).status).toBe(412);
    const stale = { labels, labelFingerprint: 'c3RhbGU=' };
    expect((await call('POST', `/${name}/setLabels`, stale)).json.error).toMatchObject({
      code: 412,
      errors: [{ reason: 'conditionNotMet' }],
    });
    const bad = { labels: { Held: 'x' }, labelFingerprint: before.labelFingerprint };
    expect((await call('POST', `/${name}/setLabels`, bad)).status).toBe(400);
    const ok = { labels, labelFingerprint: before.labelFingerprint };
    expect((await call('POST', `/${name}/setLabels`, ok)).status).toBe(200);
    const after = await read();
    expect(after.labels).toEqual(labels);
    expect(after.labelFingerprint).not.toBe(before.labelFingerprint);
    // The old fingerprint no longer holds: a second writer must read again.
    expect((await call('POST', `/${name}/setLabels`, ok)).status).toBe(412);
  });

  it('answers a repeated requestId with the first operation and no second effect', async () => {
    const { name } = await insert();
    await fake.waitForStatus(name, 'RUNNING');
    const id = randomUUID();
    const a = await call('POST', `/${name}/stop`, undefined, id);
    await fake.waitForStatus(name, 'TERMINATED');
    fake.setStatus(name, 'RUNNING');
    const b = await call('POST', `/${name}/stop`, undefined, id);
    expect(b.json.name).toBe(a.json.name);
    expect(fake.instance(name)?.status).toBe('RUNNING');
    expect(fake.calls.filter((c) => c.method === 'stop' && c.instance === name)).toHaveLength(2);
  });

  it('ends an operation DONE with error.errors[] when told to fail it', async () => {
    fake.failNextOperation('insert', { code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: 'no VMs' });
    const { name, op } = await insert();
    const done = await (await fetch(`${opUrl(op)}/wait`, { method: 'POST', headers: auth })).json();
    expect(done).toMatchObject({
      status: 'DONE',
      error: { errors: [{ code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: 'no VMs' }] },
    });
    expect(fake.instance(name)).toBeUndefined();
    const { name: other } = await insert();
    await fake.waitForStatus(other, 'RUNNING');
    fake.failNextOperation('stop', { code: 'INTERNAL_ERROR', message: 'try again' });
    const stop = await call('POST', `/${other}/stop`);
    await fetch(`${opUrl(stop.json.name)}/wait`, { method: 'POST', headers: auth });
    // A failed operation leaves the instance as it was.
    expect(fake.instance(other)?.status).toBe('RUNNING');
  });
});

describe('compute fake list calls', () => {
  let paged: ComputeFake;
  beforeAll(async () => {
    paged = await startComputeFake({ project: PROJECT, stepMs: 5, listPageLimit: 2 });
  });
  afterAll(() => paged.close());
  const list = async (query: string) => {
    const res = await fetch(
      `${paged.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances?${query}`,
      { headers: auth },
    );
    // biome-ignore lint/suspicious/noExplicitAny: GCE's JSON, inspected field by field
    return { status: res.status, json: (await res.json()) as any };
  };

  it('pages by name with nextPageToken, at most maxResults and at most its own limit', async () => {
    const names = ['ws-c', 'ws-a', 'ws-e', 'ws-b', 'ws-d'];
    for (const name of names) {
      const res = await fetch(
        `${paged.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances?requestId=${randomUUID()}`,
        { method: 'POST', headers: auth, body: JSON.stringify(validBody({ name })) },
      );
      expect(res.status).toBe(200);
    }
    const seen: string[][] = [];
    let token = '';
    do {
      const page = await list(`maxResults=500${token ? `&pageToken=${token}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(page.json.items.map((i: { name: string }) => i.name));
      token = page.json.nextPageToken ?? '';
    } while (token);
    expect(seen).toEqual([['ws-a', 'ws-b'], ['ws-c', 'ws-d'], ['ws-e']]);
    expect((await list('maxResults=1')).json.items.map((i: { name: string }) => i.name)).toEqual([
      'ws-a',
    ]);
  });

  it('sends only the fields asked for, and refuses what GCE refuses', async () => {
    const page = await list('fields=items(name,labels),nextPageToken');
    expect(page.json).toEqual({
      items: [
        { name: 'ws-a', labels: { 'workspace-hub': 'true' } },
        { name: 'ws-b', labels: { 'workspace-hub': 'true' } },
      ],
      nextPageToken: expect.any(String),
    });
    expect((await list('fields=items/status')).json).toEqual({
      items: [{ status: expect.any(String) }, { status: expect.any(String) }],
    });
    for (const [query, field] of [
      ['fields=items(name,colour)', /field selection colour/],
      ['fields=items(name', /field selection/],
      ['maxResults=501', /maxResults/],
      ['maxResults=ten', /maxResults/],
      ['pageToken=bm9wZQ', /pageToken/],
    ] as const) {
      const res = await list(query);
      expect(res.status, query).toBe(400);
      expect(res.json.error.message, query).toMatch(field);
    }
  });
});

const BOUNDARY = 'batch_foobarbaz';
const innerPath = (path: string, requestId: string = randomUUID()) =>
  `/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances${path}?requestId=${requestId}`;

/** A batch body as Google documents it: one application/http part per inner request. */
function batchBody(requests: string[], eol = '\r\n') {
  const parts = requests.map((r, i) =>
    [`--${BOUNDARY}`, 'Content-Type: application/http', `Content-ID: <item-${i + 1}>`, '', r].join(
      eol,
    ),
  );
  return `${parts.join(eol)}${eol}--${BOUNDARY}--${eol}`;
}

/** Posts a batch; a 200 is split into its parts by hand, so the wire format itself is checked. */
async function batch(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.endpoint}/batch/compute/v1`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer t',
      'content-type': `multipart/mixed; boundary="${BOUNDARY}"`,
      ...headers,
    },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, json: JSON.parse(text), parts: [] };
  const boundary = res.headers.get('content-type')!.match(/^multipart\/mixed; boundary=(\S+)$/)![1];
  expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
  expect(text).not.toMatch(/[^\r]\n/);
  const parts = text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const [partHead, httpHead, json] = part.slice(2, -2).split('\r\n\r\n') as [
        string,
        string,
        string,
      ];
      expect(partHead).toMatch(/^Content-Type: application\/http\r\n/);
      expect(httpHead).toMatch(/\r\nContent-Type: application\/json; charset=UTF-8$/);
      return {
        contentId: partHead.match(/^Content-ID: (.*)$/m)?.[1],
        status: Number(httpHead.match(/^HTTP\/1\.1 (\d{3}) /)?.[1]),
        // biome-ignore lint/suspicious/noExplicitAny: GCE's JSON
        json: JSON.parse(json) as any,
      };
    });
  return { status: res.status, json: undefined, parts };
}

async function running() {
  const { name } = await insert();
  await fake.waitForStatus(name, 'RUNNING');
  return name;
}

describe('compute fake batch endpoint', () => {
  it('answers a batch of suspends part by part, in order, and suspends the instances', async () => {
    const names = [await running(), await running(), await running()];
    const before = fake.calls.length;
    const res = await batch(
      batchBody(
        names.map(
          (name) =>
            `POST ${innerPath(`/${name}/suspend`)} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}`,
        ),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.parts.map((p) => p.contentId)).toEqual([
      '<response-item-1>',
      '<response-item-2>',
      '<response-item-3>',
    ]);
    for (const [i, part] of res.parts.entries()) {
      expect(part.status).toBe(200);
      expect(part.json).toMatchObject({ kind: 'compute#operation', operationType: 'suspend' });
      expect(part.json.targetLink).toMatch(new RegExp(`/instances/${names[i]}$`));
    }
    for (const name of names) await fake.waitForStatus(name, 'SUSPENDED');
    expect(fake.calls.slice(before).map((c) => [c.method, c.instance, c.body])).toEqual([
      ['batch', null, { parts: 3 }],
      ...names.map((name) => ['suspend', name, {}]),
    ]);
  });

  it('answers each inner call as it would be answered alone (bare LF accepted)', async () => {
    const name = await running();
    const before = fake.calls.length;
    const res = await batch(
      batchBody(
        [
          `POST ${innerPath(`/${name}/stop`)} HTTP/1.1\nContent-Type: application/json\n`,
          `POST ${innerPath('/ws-nobody/suspend')} HTTP/1.1\nContent-Type: application/json\n`,
          `DELETE ${innerPath(`/${name}`, 'retry-1')} HTTP/1.1\nContent-Type: application/json\n`,
        ],
        '\n',
      ),
    );
    expect(res.status).toBe(200);
    const [stop, unknown, badId] = res.parts;
    expect(stop).toMatchObject({ status: 200, json: { kind: 'compute#operation' } });
    expect(unknown).toMatchObject({
      status: 404,
      json: {
        error: {
          code: 404,
          errors: [{ reason: 'notFound' }],
        },
      },
    });
    expect(badId?.status).toBe(400);
    expect(badId?.json.error.message).toMatch(/requestId/);
    await fake.waitForStatus(name, 'TERMINATED');
    expect(fake.calls.slice(before).map((c) => c.method)).toEqual([
      'batch',
      'stop',
      'suspend',
      'delete',
    ]);
  });

  it('answers a bodyless POST or DELETE part without Content-Type: application/json with a 400', async () => {
    const name = await running();
    const before = fake.calls.length;
    const res = await batch(
      batchBody([
        `POST ${innerPath(`/${name}/suspend`)} HTTP/1.1\r\n`,
        `DELETE ${innerPath(`/${name}`)} HTTP/1.1\r\nContent-Type: text/plain\r\n`,
      ]),
    );
    expect(res.status).toBe(200);
    for (const part of res.parts) {
      expect(part.status).toBe(400);
      expect(part.json.error.message).toMatch(/Content-Type: application\/json/);
    }
    // Neither call was made.
    expect(fake.calls.slice(before).map((c) => c.method)).toEqual(['batch']);
    expect(fake.instance(name)?.status).toBe('RUNNING');
  });

  it('applies the outer Authorization to inner calls that set none (401 without any)', async () => {
    const list = `/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances`;
    const res = await batch(
      batchBody([`GET ${list} HTTP/1.1\r\nAuthorization: Bearer inner\r\n`, `GET ${list}`]),
      { authorization: '' },
    );
    expect(res.status).toBe(200);
    expect(res.parts.map((p) => p.status)).toEqual([200, 401]);
    expect(res.parts[1]?.json.error.code).toBe(401);
  });

  it.each([
    [
      'is not multipart/mixed',
      () => batchBody([]),
      { 'content-type': 'application/json' },
      /multipart\/mixed/,
    ],
    [
      'has more than 1000 parts',
      () => batchBody(Array.from({ length: 1001 }, () => `GET ${innerPath('')}`)),
      {},
      /at most 1000 calls/,
    ],
    [
      'has a full URL in a part',
      () =>
        batchBody([
          `POST ${innerPath('/ws-nobody/stop')} HTTP/1.1`,
          `GET https://compute.googleapis.com${innerPath('')} HTTP/1.1`,
        ]),
      {},
      /<item-2>.*full URLs are not allowed/,
    ],
  ])(
    'refuses a whole batch that %s (400, no inner call made)',
    async (_, body, headers, message) => {
      const before = fake.calls.length;
      const res = await batch(body(), headers);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 400, errors: [{ reason: 'badRequest' }] });
      expect(res.json.error.message).toMatch(message);
      expect(fake.calls.length).toBe(before);
    },
  );
});
