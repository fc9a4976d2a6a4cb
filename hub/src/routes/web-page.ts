import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { HubError } from '@workspace-hub/core';
import type { Context } from 'hono';
import type { HubEnv } from '../env.js';

/** The `web` package's dist/ (found as a package, in the repository as in the hub's image). */
export const DEFAULT_WEB_DIR = join(
  dirname(fileURLToPath(import.meta.resolve('@workspace-hub/web/package.json'))),
  'dist',
);

/**
 * Only the hub's own scripts, styles and connections (fetch and the terminal's WebSocket):
 * no inline script or style, no other origin, no framing.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface PageFile {
  type: string;
  etag: string;
  /** Hashed names never change content: cached for a year; index.html is revalidated. */
  cacheControl: string;
  identity: Uint8Array;
  br: () => Uint8Array;
  gzip: () => Uint8Array;
}

/**
 * The file compressed (Cloud Run does not compress answers): as web/build.ts wrote it beside
 * the file, else compressed at its first request, never at start, where brotli at its best
 * quality cost the hub's cold start a second.
 */
function compressed(path: string, ext: string, compress: () => Uint8Array): () => Uint8Array {
  let body: Uint8Array | undefined = existsSync(path + ext) ? readFileSync(path + ext) : undefined;
  return () => {
    body ??= compress();
    return body;
  };
}

function pageFile(path: string, immutable: boolean): PageFile {
  const identity = readFileSync(path);
  return {
    type: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
    cacheControl: immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    identity,
    br: compressed(path, '.br', () => brotliCompressSync(identity)),
    gzip: compressed(path, '.gz', () => gzipSync(identity, { level: 9 })),
  };
}

/** The built page's files by URL path; empty when web/dist was not built. */
function loadPage(dir: string): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  if (!existsSync(join(dir, 'index.html'))) return files;
  files.set('/', pageFile(join(dir, 'index.html'), false));
  if (existsSync(join(dir, 'favicon.svg')))
    files.set('/favicon.svg', pageFile(join(dir, 'favicon.svg'), false));
  const assets = join(dir, 'assets');
  if (existsSync(assets))
    for (const name of readdirSync(assets))
      if (CONTENT_TYPES[extname(name)])
        files.set(`/assets/${name}`, pageFile(join(assets, name), true));
  return files;
}

function respond(c: Context<HubEnv>, file: PageFile): Response {
  const headers: Record<string, string> = {
    'content-type': file.type,
    'cache-control': file.cacheControl,
    etag: file.etag,
    vary: 'accept-encoding',
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (c.req.header('if-none-match') === file.etag)
    return new Response(null, { status: 304, headers });
  const accepted = c.req.header('accept-encoding') ?? '';
  const [encoding, body] = /\bbr\b/.test(accepted)
    ? (['br', file.br()] as const)
    : /\bgzip\b/.test(accepted)
      ? (['gzip', file.gzip()] as const)
      : ([null, file.identity] as const);
  if (encoding) headers['content-encoding'] = encoding;
  return new Response(body, { status: 200, headers });
}

/**
 * The web page (web/dist, built by `npm run build`) at `/` and its hashed assets under
 * `/assets/`. Public: it holds no data; everything it shows comes from the API, which
 * authenticates every request. The page routes in the URL's fragment, so no other path is its.
 */
export function registerWebPage(app: OpenAPIHono<HubEnv>, dir: string): void {
  let files = loadPage(dir);
  const serve = (c: Context<HubEnv>) => {
    // Not built when the hub started (local mode before `npm run build`): looked for again, so
    // building is enough, without a restart. The image always holds the page.
    if (files.size === 0) files = loadPage(dir);
    const file = files.get(c.req.path);
    if (file) return respond(c, file);
    if (files.size === 0 && c.req.path === '/')
      throw new HubError('not_found', 'the web page is not built here: run npm run build');
    throw new HubError('not_found', `no route for ${c.req.method} ${c.req.path}`);
  };
  app.get('/', serve);
  app.get('/favicon.svg', serve);
  app.get('/assets/:file', serve);
}
