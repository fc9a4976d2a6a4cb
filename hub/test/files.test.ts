import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_CHUNK_BYTES } from '@workspace-hub/core';
import { localDriver } from '@workspace-hub/local';
import { freePort } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningHub, startHub } from '../src/server.js';

// One local hub (real Firestore emulator, a real vm-agent process per workspace) for the file.
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'root@example.com';

let hub: RunningHub;
let dataDir: string;
let id: string;
let home: string;

async function call(
  method: string,
  path: string,
  opts: {
    as?: string;
    json?: unknown;
    body?: Uint8Array<ArrayBuffer>;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = {
    authorization: `Bearer dev:${opts.as ?? ALICE}`,
    ...opts.headers,
  };
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${hub.url}${path}`, {
    method,
    headers,
    body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body,
  });
}

async function json(method: string, path: string, opts: Parameters<typeof call>[2] = {}) {
  const res = await call(method, path, opts);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function waitFor(wsId: string, status: string) {
  for (let i = 0; i < 300; i++) {
    const r = await json('GET', `/workspaces/${wsId}/status`);
    if (r.body.workspace?.status === status) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`workspace ${wsId} never became ${status}`);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const q = (path: string) => encodeURIComponent(path);
const files = (rest = '') => `/workspaces/${id}/files${rest}`;

async function download(path: string, headers: Record<string, string> = {}) {
  const res = await call('GET', files(`/content?path=${q(path)}`), { headers });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Uploads as the panel does: chunks of FILE_CHUNK_BYTES with Content-Range and an upload id. */
async function uploadInChunks(path: string, data: Uint8Array<ArrayBuffer>, uploadId: string) {
  let last: { status: number; body: { received: number; complete: boolean } } | null = null;
  for (let first = 0; first < data.length; first += FILE_CHUNK_BYTES) {
    const chunk = data.subarray(first, Math.min(first + FILE_CHUNK_BYTES, data.length));
    last = await json('PUT', files(`/content?path=${q(path)}&upload_id=${uploadId}`), {
      body: chunk,
      headers: { 'content-range': `bytes ${first}-${first + chunk.length - 1}/${data.length}` },
    });
    expect(last.status, JSON.stringify(last.body)).toBe(200);
    expect(last.body.received).toBe(first + chunk.length);
  }
  return last!;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hub-files-'));
  const config = loadConfig({
    HUB_DRIVER: 'local',
    HUB_AUTH: 'dev',
    HUB_ADMINS: ADMIN,
    PORT: String(await freePort()),
    GOOGLE_CLOUD_PROJECT: `files-${Date.now()}`,
    FIRESTORE_EMULATOR_HOST: inject('firestoreEmulatorHost'),
    HUB_DATA_DIR: dataDir,
  });
  // Real agents on this machine: the local driver as `npm start` wires it.
  hub = await startHub(config, '127.0.0.1', { driver: localDriver });
  await hub.ready;
  id = (await json('POST', '/workspaces', { json: {} })).body.id;
  await waitFor(id, 'READY');
  home = join(dataDir, 'workspaces', id, 'home');
});
afterAll(async () => {
  await hub?.close();
  // The test's homes hold tens of MiB.
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the file API, through the agent’s SFTP', () => {
  it('uploads, lists and downloads a small file byte for byte, and a range of it', async () => {
    const data = new Uint8Array(randomBytes(100_000));
    const put = await json('PUT', files('/content?path=notes.bin'), { body: data });
    expect(put).toMatchObject({
      status: 200,
      body: { path: 'notes.bin', received: 100_000, size: 100_000, complete: true },
    });
    expect(sha256(readFileSync(join(home, 'notes.bin')))).toBe(sha256(data));

    const list = await json('GET', files('?path='));
    expect(list.status).toBe(200);
    const entry = list.body.entries.find((e: { name: string }) => e.name === 'notes.bin');
    expect(entry).toMatchObject({ type: 'file', size: 100_000, mode: 0o644 });
    expect(Math.abs(Date.parse(entry.mtime) - Date.now())).toBeLessThan(60_000);

    const { res, bytes } = await download('notes.bin');
    expect(res.status).toBe(200);
    expect(sha256(bytes)).toBe(sha256(data));
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="notes.bin"; filename*=UTF-8''notes.bin`,
    );
    // Bytes of a workspace are never rendered on the hub's origin.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');

    const part = await download('notes.bin', { range: 'bytes=1000-1999' });
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get('content-range')).toBe('bytes 1000-1999/100000');
    expect(sha256(part.bytes)).toBe(sha256(data.subarray(1000, 2000)));
    const past = await download('notes.bin', { range: 'bytes=100000-' });
    expect(past.res.status).toBe(416);
    expect(past.res.headers.get('content-range')).toBe('bytes */100000');
  });

  it('uploads a file larger than Cloud Run’s request limit in chunks sent concurrently, in any order', async () => {
    // Three full chunks and a tail: more than 3 × 8 MiB.
    const data = new Uint8Array(randomBytes(3 * FILE_CHUNK_BYTES + 12_345));
    const target = 'big/data.bin';
    expect((await json('POST', files('/folders'), { json: { path: 'big' } })).status).toBe(201);
    const put = (uploadId: string, index: number) => {
      const first = index * FILE_CHUNK_BYTES;
      const body = data.subarray(first, Math.min(first + FILE_CHUNK_BYTES, data.length));
      return json('PUT', files(`/content?path=${q(target)}&upload_id=${uploadId}`), {
        body,
        headers: { 'content-range': `bytes ${first}-${first + body.length - 1}/${data.length}` },
      });
    };

    // The completing chunk of an upload that never started names the upload.
    const early = await put('concurrent-1', 3);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'conflict', field: 'upload_id' });

    // The chunks before the last, all at once and the first one last: each lands at its offset.
    const [c2, c1] = await Promise.all([put('concurrent-1', 2), put('concurrent-1', 1)]);
    const c0 = await put('concurrent-1', 0);
    for (const c of [c2, c1, c0]) expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c2.body).toMatchObject({ received: 3 * FILE_CHUNK_BYTES, complete: false });
    // A lost answer: the same chunk again is harmless.
    expect((await put('concurrent-1', 1)).status).toBe(200);
    const done = await put('concurrent-1', 3);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ received: data.length, size: data.length, complete: true });
    // Nothing but the file is left in its folder (the partial file was renamed into place).
    expect(readdirSync(join(home, 'big'))).toEqual(['data.bin']);
    const { res, bytes } = await download(target);
    expect(res.status).toBe(200);
    expect(bytes.length).toBe(data.length);
    expect(sha256(bytes)).toBe(sha256(data));

    // Sent one after another (as older clients do) it works too.
    const again = new Uint8Array(randomBytes(FILE_CHUNK_BYTES + 10));
    expect((await uploadInChunks('big/again.bin', again, 'sequential-1')).body.complete).toBe(true);
    expect(sha256(readFileSync(join(home, 'big/again.bin')))).toBe(sha256(again));

    // The completing chunk while the file lacks the chunks before it: refused, file untouched.
    expect((await put('with-holes-1', 0)).status).toBe(200);
    const short = await put('with-holes-1', 3);
    expect(short.status).toBe(409);
    expect(short.body).toMatchObject({ code: 'conflict', field: 'content-range' });
    expect(sha256(readFileSync(join(home, target)))).toBe(sha256(data));
  });

  it('takes a body streamed without Content-Length as one sent with it, and refuses one over the chunk size with 413', async () => {
    const streamed = (data: Uint8Array, pieces: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const size = Math.ceil(data.length / pieces);
          for (let at = 0; at < data.length; at += size)
            controller.enqueue(data.slice(at, at + size));
          controller.close();
        },
      });
    const put = (path: string, body: ReadableStream<Uint8Array>) =>
      fetch(`${hub.url}${files(`/content?path=${q(path)}`)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer dev:${ALICE}` },
        body,
        duplex: 'half',
      } as RequestInit);
    const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
    const res = await put('streamed.bin', streamed(data, 40));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ received: data.length, complete: true });
    expect(sha256(readFileSync(join(home, 'streamed.bin')))).toBe(sha256(data));
    const tooBig = await put('streamed-big.bin', streamed(new Uint8Array(FILE_CHUNK_BYTES + 1), 9));
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ code: 'payload_too_large', field: 'body' });
    expect(existsSync(join(home, 'streamed-big.bin'))).toBe(false);
  });

  it('refuses a chunk over the chunk size with 413; an upload never replaces the file until complete, is not listed, and can be abandoned', async () => {
    const tooBig = await json('PUT', files('/content?path=too-big.bin&upload_id=big-chunk-1'), {
      body: new Uint8Array(FILE_CHUNK_BYTES + 1),
      headers: { 'content-range': `bytes 0-${FILE_CHUNK_BYTES}/${FILE_CHUNK_BYTES * 2}` },
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ code: 'payload_too_large' });

    writeFileSync(join(home, 'kept.txt'), 'old content');
    const half = await json('PUT', files('/content?path=kept.txt&upload_id=partial-1'), {
      body: new TextEncoder().encode('new'),
      headers: { 'content-range': 'bytes 0-2/6' },
    });
    expect(half.body).toMatchObject({ received: 3, size: 6, complete: false });
    expect(readFileSync(join(home, 'kept.txt'), 'utf8')).toBe('old content');

    // The partial file is on the disk but not in the listing.
    const partial = '.kept.txt.wsh-upload-partial-1';
    expect(readdirSync(home)).toContain(partial);
    const names = (await json('GET', files('?path='))).body.entries.map(
      (e: { name: string }) => e.name,
    );
    expect(names).toContain('kept.txt');
    expect(names.filter((n: string) => n.includes('wsh-upload'))).toEqual([]);

    // Abandoning the upload removes it (again: still 204); the destination is untouched.
    const abort = (query: string) => json('DELETE', files(`/content?${query}`));
    expect((await abort('path=kept.txt')).body).toMatchObject({ status: 400, field: 'upload_id' });
    expect((await abort('path=kept.txt&upload_id=partial-1')).status).toBe(204);
    expect(readdirSync(home)).not.toContain(partial);
    expect((await abort('path=kept.txt&upload_id=partial-1')).status).toBe(204);
    expect(readFileSync(join(home, 'kept.txt'), 'utf8')).toBe('old content');
    // It is gone for the hub too: its last chunk finds no upload.
    const late = await json('PUT', files('/content?path=kept.txt&upload_id=partial-1'), {
      body: new TextEncoder().encode('new'),
      headers: { 'content-range': 'bytes 3-5/6' },
    });
    expect(late.body).toMatchObject({ code: 'conflict', field: 'upload_id' });
  });

  it('removes a partial file left by an upload abandoned a day ago when the folder is listed, never one still being written nor anything not named as ours', async () => {
    const dir = join(home, 'left-behind');
    mkdirSync(dir);
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    const old = (name: string, make: (p: string) => void = (p) => writeFileSync(p, 'x')) => {
      make(join(dir, name));
      lutimesSync(join(dir, name), twoDaysAgo, twoDaysAgo);
    };
    old('.video.mp4.wsh-upload-closed-tab-1'); // the tab closed mid-upload two days ago
    // Old, but not an upload's partial file: the user's own, kept.
    old('video.mp4.wsh-upload-closed-tab-1'); // not hidden
    old('.video.mp4.wsh-upload-short'); // not an upload id
    old('.video.mp4.wsh-upload-closed-tab-1.bak');
    old('.folder.wsh-upload-closed-tab-1', (p) => mkdirSync(p));
    old('.link.wsh-upload-closed-tab-1', (p) => symlinkSync('video.mp4', p));
    // An upload under way in the same folder: its first chunk was written just now.
    const path = 'left-behind/fresh.txt';
    const first = await json('PUT', files(`/content?path=${q(path)}&upload_id=under-way-1`), {
      body: new TextEncoder().encode('new'),
      headers: { 'content-range': 'bytes 0-2/6' },
    });
    expect(first.status).toBe(200);

    const listed = await json('GET', files('?path=left-behind'));
    expect(listed.status).toBe(200);
    expect(readdirSync(dir).sort()).toEqual(
      [
        '.video.mp4.wsh-upload-short',
        '.video.mp4.wsh-upload-closed-tab-1.bak',
        '.folder.wsh-upload-closed-tab-1',
        '.link.wsh-upload-closed-tab-1',
        '.fresh.txt.wsh-upload-under-way-1',
        'video.mp4.wsh-upload-closed-tab-1',
      ].sort(),
    );
    // The upload under way completes.
    const last = await json('PUT', files(`/content?path=${q(path)}&upload_id=under-way-1`), {
      body: new TextEncoder().encode('abc'),
      headers: { 'content-range': 'bytes 3-5/6' },
    });
    expect(last.body).toMatchObject({ complete: true, size: 6 });
    expect(readFileSync(join(dir, 'fresh.txt'), 'utf8')).toBe('newabc');
  });

  it('creates, renames and deletes folders; a folder with content only when asked', async () => {
    expect((await json('POST', files('/folders'), { json: { path: 'docs' } })).status).toBe(201);
    expect((await json('POST', files('/folders'), { json: { path: 'docs' } })).body).toMatchObject({
      status: 409,
      code: 'conflict',
      field: 'path',
    });
    writeFileSync(join(home, 'docs', 'a.txt'), 'a');
    const renamed = await json('POST', files('/rename'), { json: { from: 'docs', to: 'notes' } });
    expect(renamed).toMatchObject({ status: 200, body: { path: 'notes' } });
    expect(readFileSync(join(home, 'notes', 'a.txt'), 'utf8')).toBe('a');
    expect(existsSync(join(home, 'docs'))).toBe(false);

    writeFileSync(join(home, 'other.txt'), 'b');
    const taken = await json('POST', files('/rename'), {
      json: { from: 'other.txt', to: 'notes/a.txt' },
    });
    expect(taken.body).toMatchObject({ status: 409, field: 'to' });
    expect(readFileSync(join(home, 'notes', 'a.txt'), 'utf8')).toBe('a');

    const refused = await json('DELETE', files('?path=notes'));
    expect(refused.body).toMatchObject({ status: 409, code: 'conflict', field: 'recursive' });
    expect(existsSync(join(home, 'notes', 'a.txt'))).toBe(true);
    expect((await call('DELETE', files('?path=notes&recursive=true'))).status).toBe(204);
    expect(existsSync(join(home, 'notes'))).toBe(false);
    expect((await call('DELETE', files('?path=other.txt'))).status).toBe(204);
    expect(existsSync(join(home, 'other.txt'))).toBe(false);
    expect((await json('DELETE', files('?path=other.txt'))).body).toMatchObject({
      status: 404,
      field: 'path',
    });
  });

  it('lists and downloads the agent’s own folder (its SSH host key) but refuses to change it with 403 naming the path', async () => {
    const key = join(home, '.vm-agent', 'ssh_host_ed25519_key');
    const before = readFileSync(key);
    const listed = (await json('GET', files())).body.entries.find(
      (e: { name: string }) => e.name === '.vm-agent',
    );
    expect(listed).toMatchObject({
      type: 'directory',
      read_only: expect.stringContaining('host key'),
    });
    const inside = (await json('GET', files('?path=.vm-agent'))).body.entries;
    expect(inside.find((e: { name: string }) => e.name === 'ssh_host_ed25519_key')).toMatchObject({
      read_only: expect.any(String),
    });
    expect((await download('.vm-agent/ssh_host_ed25519_key')).bytes).toEqual(
      new Uint8Array(before),
    );

    const refused = (field: string, path: string) => ({
      status: 403,
      code: 'permission_denied',
      field,
      detail: expect.stringContaining(`${field}: ${path}: `),
    });
    const key2 = '.vm-agent/ssh_host_ed25519_key';
    expect((await json('DELETE', files('?path=.vm-agent&recursive=true'))).body).toMatchObject(
      refused('path', '.vm-agent'),
    );
    expect((await json('DELETE', files(`?path=${q(key2)}`))).body).toMatchObject(
      refused('path', key2),
    );
    expect(
      (await json('PUT', files(`/content?path=${q(key2)}`), { body: new Uint8Array(1) })).body,
    ).toMatchObject(refused('path', key2));
    expect(
      (await json('POST', files('/rename'), { json: { from: '.vm-agent', to: 'agent-old' } })).body,
    ).toMatchObject(refused('from', '.vm-agent'));
    writeFileSync(join(home, 'my-key'), 'not a key');
    expect(
      (await json('POST', files('/rename'), { json: { from: 'my-key', to: key2 } })).body,
    ).toMatchObject(refused('to', key2));
    expect(
      (await json('POST', files('/folders'), { json: { path: '.vm-agent/d' } })).body,
    ).toMatchObject(refused('path', '.vm-agent/d'));
    expect(readFileSync(key)).toEqual(before);
    expect(readdirSync(join(home, '.vm-agent'))).toEqual(['ssh_host_ed25519_key']);
    // A name that only starts the same is the user's own.
    expect(
      (await json('POST', files('/folders'), { json: { path: '.vm-agent-notes' } })).status,
    ).toBe(201);
  });

  it('stays inside the home: .. and absolute paths are 400, a symlink leading out is 403', async () => {
    for (const path of ['../x', 'a/../../x', '/etc/passwd']) {
      for (const [method, url] of [
        ['GET', files(`?path=${q(path)}`)],
        ['GET', files(`/content?path=${q(path)}`)],
        ['PUT', files(`/content?path=${q(path)}`)],
        ['DELETE', files(`?path=${q(path)}`)],
      ] as const) {
        const r = await json(method, url, method === 'PUT' ? { body: new Uint8Array(1) } : {});
        expect(r.body, `${method} ${url}`).toMatchObject({
          status: 400,
          code: 'invalid_argument',
          field: 'path',
        });
      }
    }
    expect(
      (await json('POST', files('/rename'), { json: { from: 'notes.bin', to: '../x' } })).body,
    ).toMatchObject({ status: 400, field: 'to' });

    symlinkSync('/etc', join(home, 'etc-link'));
    writeFileSync(join(home, 'inside.txt'), 'x');
    symlinkSync('inside.txt', join(home, 'inside-link'));
    const listing = (await json('GET', files())).body.entries;
    expect(listing.find((e: { name: string }) => e.name === 'etc-link')).toMatchObject({
      type: 'symlink',
      symlink: { target: '/etc', status: 'outside' },
    });
    expect(listing.find((e: { name: string }) => e.name === 'inside-link')).toMatchObject({
      type: 'symlink',
      symlink: { target: 'inside.txt', status: 'inside', target_type: 'file' },
    });

    const forbidden = { status: 403, code: 'permission_denied', field: 'path' };
    expect((await json('GET', files('?path=etc-link'))).body).toMatchObject(forbidden);
    expect((await json('GET', files('/content?path=etc-link/passwd'))).body).toMatchObject(
      forbidden,
    );
    expect(
      (await json('PUT', files('/content?path=etc-link/wsh-test'), { body: new Uint8Array(1) }))
        .body,
    ).toMatchObject(forbidden);
    expect(existsSync('/etc/wsh-test')).toBe(false);
    expect(
      (await json('POST', files('/folders'), { json: { path: 'etc-link/d' } })).body,
    ).toMatchObject(forbidden);
    // Deleting the link removes the link, never what it points to.
    expect((await call('DELETE', files('?path=etc-link&recursive=true'))).status).toBe(204);
    expect(existsSync('/etc/passwd')).toBe(true);
    expect(existsSync(join(home, 'etc-link'))).toBe(false);
  });

  it('another user’s workspace is 404; an admin reaches it', async () => {
    for (const [method, url] of [
      ['GET', files()],
      ['GET', files('/content?path=notes.bin')],
      ['DELETE', files('?path=notes.bin')],
    ] as const) {
      expect((await json(method, url, { as: BOB })).body).toMatchObject({
        status: 404,
        code: 'not_found',
      });
    }
    expect(existsSync(join(home, 'notes.bin'))).toBe(true);
    const asAdmin = await json('GET', files(), { as: ADMIN });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.entries.map((e: { name: string }) => e.name)).toContain('notes.bin');
  });

  it('a workspace that is not READY says so with its status, and serves its files again once started', async () => {
    expect((await json('POST', `/workspaces/${id}/stop`)).status).toBe(202);
    await waitFor(id, 'SUSPENDED');
    const r = await json('GET', files());
    expect(r.body).toMatchObject({
      status: 409,
      code: 'workspace_not_ready',
      current_status: 'SUSPENDED',
    });
    expect(r.body.detail).toContain('SUSPENDED');

    // Started again, its files are there (the hub's kept SFTP channel belonged to the agent
    // before the suspend and is not reused blindly).
    expect((await json('POST', `/workspaces/${id}/start`)).status).toBe(202);
    await waitFor(id, 'READY');
    const after = await json('GET', files());
    expect(after.status).toBe(200);
    expect(after.body.entries.map((e: { name: string }) => e.name)).toContain('notes.bin');
  });
});
