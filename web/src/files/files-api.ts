import type { FileListing, UploadProgress } from '@workspace-hub/api';
import { authorizationHeaders } from '../credential.js';
import { call, HubProblem } from '../hub-api.js';

/** `FILE_CHUNK_BYTES` of api/src/files.ts (a type import keeps zod out of the bundle). */
export const CHUNK_BYTES = 8 * 1024 * 1024;

const base = (id: string) => `/workspaces/${encodeURIComponent(id)}/files`;
const q = (path: string) => encodeURIComponent(path);

export const filesApi = {
  list: (id: string, path: string) => call<FileListing>('GET', `${base(id)}?path=${q(path)}`),
  mkdir: (id: string, path: string) =>
    call<{ path: string }>('POST', `${base(id)}/folders`, { path }),
  rename: (id: string, from: string, to: string) =>
    call<{ path: string }>('POST', `${base(id)}/rename`, { from, to }),
  remove: (id: string, path: string, recursive: boolean) =>
    call<void>('DELETE', `${base(id)}?path=${q(path)}&recursive=${recursive}`),
  contentUrl: (id: string, path: string) => `${base(id)}/content?path=${q(path)}`,
};

function problemFromXhr(xhr: XMLHttpRequest): HubProblem {
  try {
    const p = JSON.parse(xhr.responseText) as { code?: string; detail?: string };
    return new HubProblem(xhr.status, p.code ?? 'unknown', p.detail ?? xhr.statusText);
  } catch {
    return new HubProblem(xhr.status, 'unknown', `the hub answered ${xhr.status}`);
  }
}

/** One chunk by XMLHttpRequest: fetch cannot report upload progress. */
function putChunk(
  url: string,
  chunk: Blob,
  range: string | null,
  onBytes: (sent: number) => void,
  signal: AbortSignal,
): Promise<UploadProgress> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(authorizationHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    if (range) xhr.setRequestHeader('content-range', range);
    xhr.upload.onprogress = (e) => onBytes(e.loaded);
    xhr.onload = () =>
      xhr.status === 200
        ? resolve(JSON.parse(xhr.responseText) as UploadProgress)
        : reject(problemFromXhr(xhr));
    xhr.onerror = () =>
      reject(new HubProblem(0, 'connection_lost', 'the upload lost its connection'));
    signal.addEventListener('abort', () => xhr.abort());
    xhr.onabort = () => reject(new HubProblem(0, 'aborted', 'upload cancelled'));
    xhr.send(chunk);
  });
}

/** A chunk is retried on a lost connection or a hub/agent hiccup (5xx), never on a refusal. */
const retriable = (err: unknown) =>
  err instanceof HubProblem && err.code !== 'aborted' && (err.status === 0 || err.status >= 500);

/**
 * Uploads `file` to `path`: whole when it fits one request, else in chunks with Content-Range
 * and one upload id; a failed chunk is sent again (the hub writes it at its offset).
 */
export async function uploadFile(
  id: string,
  path: string,
  file: File,
  onProgress: (sentBytes: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const uploadId = crypto.randomUUID();
  const url = `${base(id)}/content?path=${q(path)}&upload_id=${uploadId}`;
  const size = file.size;
  for (let first = 0; first < size || first === 0; first += CHUNK_BYTES) {
    const last = Math.min(first + CHUNK_BYTES, size) - 1;
    const range = size === 0 ? null : `bytes ${first}-${last}/${size}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await putChunk(
          url,
          file.slice(first, last + 1),
          range,
          (n) => onProgress(first + n),
          signal,
        );
        break;
      } catch (err) {
        if (!retriable(err) || attempt === 4) throw err;
        await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
      }
    }
    if (size === 0) break;
  }
  onProgress(size);
}

/**
 * Saves a file from the workspace. Without a credential of the page's own (IAP, Cloud Run IAM
 * behind `wsh dashboard`) a plain link streams it to disk; a dev credential is a header, which
 * a link cannot carry, so the bytes are fetched (with progress) and saved from memory.
 */
export async function downloadFile(
  id: string,
  path: string,
  onProgress: (received: number, total: number | null) => void,
): Promise<void> {
  const url = filesApi.contentUrl(id, path);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const headers = authorizationHeaders();
  if (Object.keys(headers).length === 0) return save(url, name);
  const res = await fetch(url, { headers });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new HubProblem(res.status, p.code ?? 'unknown', p.detail ?? res.statusText);
  }
  const total = Number(res.headers.get('content-length')) || null;
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const blobUrl = URL.createObjectURL(new Blob(parts));
  save(blobUrl, name);
  setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
}

function save(href: string, name: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}
