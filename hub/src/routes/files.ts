import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  AbortUploadQuery,
  DeleteFileQuery,
  FILE_CHUNK_BYTES,
  FileListing,
  FilePathQuery,
  HubError,
  MakeFolderBody,
  parseContentRange,
  RenameFileBody,
  UploadProgress,
  UploadQuery,
} from '@workspace-hub/core';
import type { Context } from 'hono';
import { z } from 'zod';
import type { HubDeps } from '../deps.js';
import type { HubEnv } from '../env.js';
import { download } from '../files/download.js';
import { listFolder } from '../files/listing.js';
import { refuseReadOnly } from '../files/read-only.js';
import { removePath } from '../files/remove.js';
import { fromSftpError } from '../files/sftp-calls.js';
import { abortUpload, uploadChunk } from '../files/upload.js';
import { withSftp } from '../files/workspace-sftp.js';
import { IdParams, json, problemResponses } from './schemas.js';

const tags = ['files'];
const security = [{ bearer: [] }];
const PathResult = z.object({ path: z.string() });

const routes = {
  list: createRoute({
    method: 'get',
    path: '/workspaces/{id}/files',
    tags,
    security,
    summary: 'List a folder of the workspace home (`path` relative to it; empty: the home)',
    request: { params: IdParams, query: FilePathQuery },
    responses: { 200: json(FileListing, 'The folder’s entries'), ...problemResponses },
  }),
  download: createRoute({
    method: 'get',
    path: '/workspaces/{id}/files/content',
    tags,
    security,
    summary: 'Download a file (streamed; one `Range` honoured)',
    request: {
      params: IdParams,
      query: FilePathQuery,
      headers: z.object({ range: z.string().max(200).optional() }),
    },
    responses: {
      200: {
        description: 'The file, as an attachment',
        content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
      },
      206: { description: 'The range asked for' },
      416: { description: 'The range starts past the end; Content-Range gives the size' },
      ...problemResponses,
    },
  }),
  upload: createRoute({
    method: 'put',
    path: '/workspaces/{id}/files/content',
    tags,
    security,
    summary: `Upload a file, whole or as chunks of at most ${FILE_CHUNK_BYTES} bytes (Content-Range, upload_id); the last chunk puts it in place`,
    request: {
      params: IdParams,
      query: UploadQuery,
      headers: z.object({ 'content-range': z.string().max(100).optional() }),
      body: {
        content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
        required: true,
      },
    },
    responses: { 200: json(UploadProgress, 'What the upload has so far'), ...problemResponses },
  }),
  abortUpload: createRoute({
    method: 'delete',
    path: '/workspaces/{id}/files/content',
    tags,
    security,
    summary:
      'Abandon an upload in chunks: its partial file is removed (idempotent); the destination is untouched',
    request: { params: IdParams, query: AbortUploadQuery },
    responses: { 204: { description: 'Abandoned' }, ...problemResponses },
  }),
  mkdir: createRoute({
    method: 'post',
    path: '/workspaces/{id}/files/folders',
    tags,
    security,
    summary: 'Create a folder (its parent must exist)',
    request: {
      params: IdParams,
      body: { content: { 'application/json': { schema: MakeFolderBody } }, required: true },
    },
    responses: { 201: json(PathResult, 'Created'), ...problemResponses },
  }),
  rename: createRoute({
    method: 'post',
    path: '/workspaces/{id}/files/rename',
    tags,
    security,
    summary: 'Rename or move a file or folder within the home; an existing `to` is 409',
    request: {
      params: IdParams,
      body: { content: { 'application/json': { schema: RenameFileBody } }, required: true },
    },
    responses: { 200: json(PathResult, 'Renamed'), ...problemResponses },
  }),
  remove: createRoute({
    method: 'delete',
    path: '/workspaces/{id}/files',
    tags,
    security,
    summary:
      'Delete a file, symlink or empty folder; a folder with content only with recursive=true',
    request: { params: IdParams, query: DeleteFileQuery },
    responses: { 204: { description: 'Deleted' }, ...problemResponses },
  }),
};

function contentRangeOf(header: string | undefined) {
  if (header === undefined) return null;
  const range = parseContentRange(header);
  if (!range)
    throw new HubError(
      'invalid_argument',
      'content-range: expected bytes FIRST-LAST/TOTAL with FIRST ≤ LAST < TOTAL',
      { field: 'content-range' },
    );
  if (range.last - range.first + 1 > FILE_CHUNK_BYTES)
    throw new HubError('invalid_argument', `content-range: at most ${FILE_CHUNK_BYTES} bytes`, {
      field: 'content-range',
    });
  return range;
}

const noBody = (async function* () {})();

/**
 * The upload's body: Node's request itself while nothing has read it, which spares a copy of
 * every byte and a web-stream read per piece (@hono/node-server's `Request.body` wraps it in
 * `Readable.toWeb`); else the Request's (a chunked body the size limit has buffered, or an app
 * called without a server). A body sent with Content-Length is only checked by its header.
 */
function uploadBody(c: Context<HubEnv>): AsyncIterable<Uint8Array> {
  const incoming = c.env?.incoming;
  if (incoming && !incoming.readableDidRead) return incoming;
  return c.req.raw.body ?? noBody;
}

export function registerFileRoutes(app: OpenAPIHono<HubEnv>, deps: HubDeps): void {
  app.openapi(routes.list, async (c) => {
    const { path } = c.req.valid('query');
    const listing = await withSftp(deps, c.get('identity'), c.req.valid('param').id, (calls) =>
      listFolder(calls, path),
    );
    return c.json(listing, 200);
  });

  // Streams: the session is released when the body ends, not when the handler returns.
  app.openapi(routes.download, async (c) => {
    const { path } = c.req.valid('query');
    const range = c.req.valid('header').range;
    const id = c.req.valid('param').id;
    return withSftp(
      deps,
      c.get('identity'),
      id,
      (calls, release) => download(calls, path, range, release),
      { keepOpen: true },
    ) as never;
  });

  app.openapi(routes.upload, async (c) => {
    const { path, upload_id } = c.req.valid('query');
    refuseReadOnly('path', path);
    const range = contentRangeOf(c.req.valid('header')['content-range']);
    const body = uploadBody(c);
    const progress = await withSftp(deps, c.get('identity'), c.req.valid('param').id, (calls) =>
      uploadChunk(calls, { path, uploadId: upload_id, range, body }),
    );
    return c.json(progress, 200);
  });

  app.openapi(routes.abortUpload, async (c) => {
    const { path, upload_id } = c.req.valid('query');
    refuseReadOnly('path', path);
    await withSftp(deps, c.get('identity'), c.req.valid('param').id, (calls) =>
      abortUpload(calls, path, upload_id),
    );
    return c.body(null, 204);
  });

  app.openapi(routes.mkdir, async (c) => {
    const { path } = c.req.valid('json');
    if (path === '')
      throw new HubError('invalid_argument', 'path: name the new folder', { field: 'path' });
    refuseReadOnly('path', path);
    await withSftp(deps, c.get('identity'), c.req.valid('param').id, (calls) =>
      calls.mkdir(path).catch((err) => {
        throw fromSftpError(err, 'path', path);
      }),
    );
    return c.json({ path }, 201);
  });

  app.openapi(routes.rename, async (c) => {
    const { from, to } = c.req.valid('json');
    for (const [field, path] of [
      ['from', from],
      ['to', to],
    ] as const)
      if (path === '')
        throw new HubError('invalid_argument', `${field}: the home directory cannot be renamed`, {
          field,
        });
    refuseReadOnly('from', from);
    refuseReadOnly('to', to);
    await withSftp(deps, c.get('identity'), c.req.valid('param').id, async (calls) => {
      await calls.lstat(from).catch((err) => {
        throw fromSftpError(err, 'from', from);
      });
      // The agent's rename replaces an existing file (POSIX rename); a file manager asks first.
      const taken = await calls.lstat(to).then(
        () => true,
        () => false,
      );
      if (taken) throw new HubError('conflict', `to: ${to} already exists`, { field: 'to' });
      await calls.rename(from, to).catch((err) => {
        throw fromSftpError(err, 'to', to);
      });
    });
    return c.json({ path: to }, 200);
  });

  app.openapi(routes.remove, async (c) => {
    const { path, recursive } = c.req.valid('query');
    refuseReadOnly('path', path);
    await withSftp(deps, c.get('identity'), c.req.valid('param').id, (calls) =>
      removePath(calls, path, recursive === 'true'),
    );
    return c.body(null, 204);
  });
}
