/**
 * Bundles the page into dist/: one script and one stylesheet with content hashes in their
 * names (the hub caches them forever) and index.html pointing at them (never cached).
 * Run by `npm run build` after `tsc -b` has type-checked src/.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src/main.ts') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const named = (ext: string) => {
  const file = outputs.find((f) => f.startsWith('app-') && f.endsWith(ext));
  if (!file) throw new Error(`esbuild wrote no app-*${ext}`);
  return `/assets/${file}`;
};
const html = readFileSync(join(root, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', named('.js'))
  .replace('%APP_CSS%', named('.css'));
writeFileSync(join(dist, 'index.html'), html);
copyFileSync(join(root, 'src/favicon.svg'), join(dist, 'favicon.svg'));

// Compressed here, once, not by the hub at each start (Cloud Run does not compress answers,
// and brotli at its best quality took the hub's cold start a second on this bundle): the
// hub serves `NAME.br` / `NAME.gz` beside each file when the browser accepts them.
for (const file of [
  'index.html',
  'favicon.svg',
  ...readdirSync(join(dist, 'assets')).map((f) => `assets/${f}`),
]) {
  const identity = readFileSync(join(dist, file));
  writeFileSync(join(dist, `${file}.br`), brotliCompressSync(identity));
  writeFileSync(join(dist, `${file}.gz`), gzipSync(identity, { level: 9 }));
}
