/** Compute Engine's batch wire format: multipart/mixed bodies whose parts are whole HTTP messages. */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { ApiError } from './model.js';

export const BATCH_PATH = '/batch/compute/v1';
/** Google's documented limit on the calls in one batch request. */
export const MAX_BATCH_PARTS = 1000;

/** One HTTP request as the fake's router takes it, from a socket or from a batch part. */
export interface FakeRequest {
  method: string;
  /** Path and query, e.g. `/compute/v1/projects/p/zones/z/instances?requestId=…`. */
  path: string;
  authorization: string | undefined;
  /** The body as received (JSON, or empty). */
  body: string;
  /** The inner request's own Content-Type, for a batch part; unset for a request of its own. */
  contentType?: string | undefined;
}

export interface FakeResponse {
  status: number;
  body: unknown;
}

export interface BatchPart {
  contentId: string | null;
  request: FakeRequest;
}

const badRequest = (message: string) => new ApiError(400, 'badRequest', message);

function boundaryOf(contentType: string | undefined): string {
  if (!/^multipart\/mixed\s*(;|$)/i.test(contentType ?? ''))
    throw badRequest(`a batch request must be multipart/mixed, not '${contentType ?? ''}'`);
  const m = contentType!.match(/;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i);
  if (!m) throw badRequest('multipart/mixed without a boundary');
  return (m[1] ?? m[2])!;
}

/** The body parts between the boundary delimiters, with LF line endings. */
function splitParts(body: string, boundary: string): string[] {
  const parts: string[] = [];
  let current: string[] | null = null; // null while in the preamble
  // Lenient on input: senders may use bare LF instead of MIME's CRLF.
  for (const line of body.replace(/\r\n/g, '\n').split('\n')) {
    const delimiter = line.trimEnd(); // RFC 2046 allows whitespace after a delimiter
    if (delimiter === `--${boundary}--`) {
      if (current) parts.push(current.join('\n'));
      return parts;
    }
    if (delimiter === `--${boundary}`) {
      if (current) parts.push(current.join('\n'));
      current = [];
    } else current?.push(line);
  }
  throw badRequest(`the batch body does not end with --${boundary}--`);
}

/** Splits `headers\n\nbody` at the first blank line; without one it is all headers. */
function splitHeaders(text: string): { headers: Map<string, string>; rest: string } {
  const lines = text.split('\n');
  const blank = lines.findIndex((l) => l.trim() === '');
  const headers = new Map<string, string>();
  for (const line of blank < 0 ? lines : lines.slice(0, blank)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, rest: blank < 0 ? '' : lines.slice(blank + 1).join('\n') };
}

function parsePart(text: string, index: number, outerAuthorization: string | undefined): BatchPart {
  const part = splitHeaders(text);
  const contentId = part.headers.get('content-id') ?? null;
  const named = `batch part ${contentId ?? `#${index + 1}`}`;
  if (!/^application\/http\s*(;|$)/i.test(part.headers.get('content-type') ?? ''))
    throw badRequest(`${named} is not Content-Type: application/http`);
  const newline = part.rest.indexOf('\n');
  const requestLine = (newline < 0 ? part.rest : part.rest.slice(0, newline)).trim();
  const m = requestLine.match(/^([A-Z]+) (\S+)(?: HTTP\/\d(?:\.\d)?)?$/);
  if (!m) throw badRequest(`${named} has no request line ('METHOD /path HTTP/1.1')`);
  const [, method, path] = m as unknown as [string, string, string];
  if (!path.startsWith('/'))
    throw badRequest(
      `${named} requests '${path}': a batched request carries only the path of its URL; full URLs are not allowed`,
    );
  const inner = splitHeaders(newline < 0 ? '' : part.rest.slice(newline + 1));
  return {
    contentId,
    request: {
      method,
      path,
      // Outer headers apply to every inner request that does not set its own.
      authorization: inner.headers.get('authorization') ?? outerAuthorization,
      // The line break before a delimiter belongs to it; blank lines before it are padding.
      body: inner.rest.trimEnd(),
      contentType: inner.headers.get('content-type') ?? '',
    },
  };
}

/**
 * Google's batch clients send every inner request but a GET with
 * `Content-Type: application/json`, bodyless calls (stop, delete) included;
 * the fake answers a part without it with a 400 of its own (its wording), so a
 * sender that leaves it out is noticed here rather than against GCE.
 */
export function innerContentTypeProblem(req: FakeRequest): string | null {
  if (req.contentType === undefined || req.method === 'GET') return null;
  return /^application\/json\s*(;|$)/i.test(req.contentType)
    ? null
    : `a batched ${req.method} must carry Content-Type: application/json (it has '${req.contentType}')`;
}

/** The inner requests of a batch, in order; ApiError 400 when the batch itself is malformed. */
export function parseBatch(
  contentType: string | undefined,
  body: string,
  authorization: string | undefined,
): BatchPart[] {
  const parts = splitParts(body, boundaryOf(contentType));
  if (parts.length === 0) throw badRequest('a batch request must contain at least one part');
  if (parts.length > MAX_BATCH_PARTS)
    throw badRequest(
      `a batch request can contain at most ${MAX_BATCH_PARTS} calls (this one has ${parts.length})`,
    );
  return parts.map((text, i) => parsePart(text, i, authorization));
}

/** Google answers part `<x>` with part `<response-x>`. */
function responseContentId(contentId: string): string {
  return contentId.startsWith('<') ? `<response-${contentId.slice(1)}` : `response-${contentId}`;
}

/** The multipart/mixed answer to a batch, one part per response in request order, CRLF throughout. */
export function formatBatch(
  parts: BatchPart[],
  responses: FakeResponse[],
): { contentType: string; body: string } {
  const boundary = `batch_${randomUUID().replace(/-/g, '')}`;
  const sections = responses.map((res, i) => {
    const contentId = parts[i]!.contentId;
    return [
      `--${boundary}`,
      'Content-Type: application/http',
      ...(contentId ? [`Content-ID: ${responseContentId(contentId)}`] : []),
      '',
      `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd(),
      'Content-Type: application/json; charset=UTF-8',
      '',
      JSON.stringify(res.body),
    ].join('\r\n');
  });
  return {
    contentType: `multipart/mixed; boundary=${boundary}`,
    body: `${sections.join('\r\n')}\r\n--${boundary}--\r\n`,
  };
}
