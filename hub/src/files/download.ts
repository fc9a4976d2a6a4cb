import { HubError } from '@workspace-hub/core';
import { parseRange } from './byte-range.js';
import { fileTypeOf } from './listing.js';
import { readStream } from './read-stream.js';
import { fromSftpError, type SftpCalls } from './sftp-calls.js';

/**
 * Cloud Run refuses HTTP/1 responses over 32 MiB unless they are streamed (chunked): larger
 * downloads go without Content-Length (docs/GOOGLE-BEHAVIOURS.md).
 */
const CLOUD_RUN_MAX_SIZED_RESPONSE = 32 * 1024 * 1024;

/** `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187). */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The file (or the one range asked for) as a streamed response. The bytes come from a user's
 * workspace and are served from the hub's origin, so they are never rendered there: an
 * attachment, `nosniff`, and a sandboxing CSP.
 */
export async function download(
  calls: SftpCalls,
  path: string,
  rangeHeader: string | undefined,
  release: () => void,
): Promise<Response> {
  if (path === '') throw new HubError('invalid_argument', 'path: name a file', { field: 'path' });
  const attrs = await calls.stat(path).catch((err) => {
    throw fromSftpError(err, 'path', path);
  });
  if (fileTypeOf(attrs) !== 'file')
    throw new HubError('invalid_argument', `path: ${path} is not a file`, { field: 'path' });
  const size = attrs.size;
  const headers = new Headers({
    'content-type': 'application/octet-stream',
    'content-disposition': contentDisposition(path.slice(path.lastIndexOf('/') + 1)),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    'cache-control': 'private, no-store',
    'accept-ranges': 'bytes',
  });
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    release();
    headers.set('content-range', `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const handle = await calls.open(path, 'r').catch((err) => {
    throw fromSftpError(err, 'path', path);
  });
  const length = end - start + 1;
  if (range) headers.set('content-range', `bytes ${start}-${end}/${size}`);
  if (range || length <= CLOUD_RUN_MAX_SIZED_RESPONSE)
    headers.set('content-length', String(length));
  const body = readStream(calls, handle, start, end, () => {
    calls.close(handle).then(release, release);
  });
  return new Response(body, { status: range ? 206 : 200, headers });
}
