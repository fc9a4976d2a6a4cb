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
  abortUpload: (id: string, path: string, uploadId: string) =>
    call<void>('DELETE', `${base(id)}/content?path=${q(path)}&upload_id=${uploadId}`),
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
    if (signal.aborted) return reject(new HubProblem(0, 'aborted', 'upload cancelled'));
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
 * Chunks in flight at once. One after another, the agent idles between a chunk's last write and
 * the next request's first; the hub writes each chunk at its offset, so they may overlap.
 */
const PARALLEL_CHUNKS = 3;

/**
 * Uploads `file` to `path`: whole when it fits one request, else in chunks with Content-Range
 * and one upload id, up to `PARALLEL_CHUNKS` at once; the chunk that completes the file (the hub
 * then renames it into place) goes only after every other was answered, so the file it puts in
 * place has no hole. A failed chunk is sent again (the hub writes it at its offset); a chunk
 * that fails for good, or the user's cancel, stops the others and abandons the upload (the hub
 * removes its partial file).
 */
export async function uploadFile(
  id: string,
  path: string,
  file: File,
  onProgress: (sentBytes: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const uploadId = crypto.randomUUID();
  const stop = new AbortController();
  const abandon = () => stop.abort();
  signal.addEventListener('abort', abandon);
  const url = `${base(id)}/content?path=${q(path)}&upload_id=${uploadId}`;
  const size = file.size;
  const sent = new Map<number, number>();
  const send = async (first: number) => {
    const last = Math.min(first + CHUNK_BYTES, size) - 1;
    const range = size === 0 ? null : `bytes ${first}-${last}/${size}`;
    const onBytes = (n: number) => {
      sent.set(first, n);
      let total = 0;
      for (const v of sent.values()) total += v;
      onProgress(total);
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await putChunk(url, file.slice(first, last + 1), range, onBytes, stop.signal);
      } catch (err) {
        if (!retriable(err) || attempt === 4 || stop.signal.aborted) throw err;
        await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
      }
    }
  };
  const lastStart = size === 0 ? 0 : Math.floor((size - 1) / CHUNK_BYTES) * CHUNK_BYTES;
  let next = 0;
  const worker = async () => {
    while (!stop.signal.aborted && next < lastStart) {
      const first = next;
      next += CHUNK_BYTES;
      await send(first);
    }
  };
  try {
    await Promise.all(Array.from({ length: PARALLEL_CHUNKS }, worker));
    await send(lastStart);
  } catch (err) {
    stop.abort();
    // The partial file is the hub's only state; nobody will complete it now.
    if (size > CHUNK_BYTES) await filesApi.abortUpload(id, path, uploadId).catch(() => undefined);
    throw err;
  } finally {
    signal.removeEventListener('abort', abandon);
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
