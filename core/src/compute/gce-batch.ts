import { randomBytes } from 'node:crypto';

/**
 * Compute Engine's batch endpoint (`POST /batch/compute/v1`): many REST calls
 * in one `multipart/mixed` HTTP request, each part a whole HTTP request, and
 * the answer one part per call. The client library has no batch support; a
 * sweep that suspends hundreds of instances would otherwise pay one HTTP
 * round trip (and the client's per-call work) for each.
 */

/** GCE's limit on calls per batch request. */
export const BATCH_LIMIT = 1000;

/** A bodyless instance call (suspend, delete): all the driver batches. */
export interface RestCall {
  method: 'POST' | 'DELETE';
  /** Path and query only, as Google requires inside a batch. */
  path: string;
}

export interface RestAnswer {
  status: number;
  /** The parsed JSON body; `null` when there was none. */
  json: unknown;
}

export const BATCH_PATH = '/batch/compute/v1';

const CRLF = '\r\n';

export function encodeBatch(calls: readonly RestCall[]): { body: string; contentType: string } {
  const boundary = `batch_${randomBytes(12).toString('hex')}`;
  const parts = calls.map((call, i) =>
    [
      `--${boundary}`,
      'Content-Type: application/http',
      `Content-ID: <item-${i}>`,
      '',
      `${call.method} ${call.path} HTTP/1.1`,
      // Google's own batch clients label every inner request so, body or not.
      'Content-Type: application/json',
      '',
      '',
    ].join(CRLF),
  );
  return {
    body: `${parts.join(CRLF)}${CRLF}--${boundary}--${CRLF}`,
    contentType: `multipart/mixed; boundary=${boundary}`,
  };
}

/** Splits a block of header lines from what follows its blank line (CRLF or LF). */
function splitHead(text: string): { head: string[]; rest: string } {
  const m = /\r?\n\r?\n/.exec(text);
  const headText = m ? text.slice(0, m.index) : text;
  return {
    head: headText.split(/\r?\n/),
    rest: m ? text.slice(m.index + m[0].length) : '',
  };
}

function header(lines: readonly string[], name: string): string | undefined {
  const prefix = `${name.toLowerCase()}:`;
  const line = lines.find((l) => l.toLowerCase().startsWith(prefix));
  return line?.slice(prefix.length).trim();
}

/** An answer's body as JSON; text that is not (a proxy's HTML error page) becomes its message. */
export function parseAnswerBody(body: unknown): unknown {
  if (typeof body !== 'string') return body ?? null;
  const text = body.trim();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}

/**
 * The answers of a batch, in the order of the calls sent (matched by
 * Content-ID, since Google does not promise order). A call with no answer is
 * reported as a 502, so one lost part never passes as success.
 */
export function decodeBatch(body: string, contentType: string, count: number): RestAnswer[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\/mixed/i.test(contentType) || !boundary)
    throw new Error(`batch answer is not multipart/mixed (${contentType || 'no content type'})`);
  const answers = Array.from<RestAnswer | undefined>({ length: count });
  const delimiter = new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  for (const raw of body.split(delimiter).slice(1)) {
    if (raw.startsWith('--')) break;
    const part = splitHead(raw.replace(/^\r?\n/, ''));
    const id = /<response-item-(\d+)>/.exec(header(part.head, 'Content-ID') ?? '')?.[1];
    const inner = splitHead(part.rest);
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(inner.head[0] ?? '')?.[1]);
    const index = id === undefined ? answers.indexOf(undefined) : Number(id);
    if (!Number.isInteger(status) || index < 0 || index >= count) continue;
    answers[index] = { status, json: parseAnswerBody(inner.rest) };
  }
  return Array.from(
    { length: count },
    (_, i) =>
      answers[i] ?? {
        status: 502,
        json: { error: { code: 502, message: 'the batch answer had no part for this call' } },
      },
  );
}
