#!/usr/bin/env node
// Bundles the `wsh` CLI that tsc wrote in dist/ into dist/wsh/ (what bin/wsh.js runs), one ES
// module chunk per lazily loaded command. Node resolves and reads each module of an unbundled
// ESM program one by one (zod alone is 230 files), which was most of `wsh ls`'s start-up.
// dist/wsh/ sits two levels below the package like dist/cli/, so `new URL('../../…',
// import.meta.url)` (package.json, bin/wsh.js) means the same file from either.
//   node client/bundle.mjs        (after `tsc -b`; `npm run build` runs both)
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLIENT = fileURLToPath(new URL('./', import.meta.url));

// zod's namespace `z` carries every locale's messages (half of zod's code); wsh shows English
// ones only (zod's default, which classic zod configures from locales/en.js directly).
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};

/** Writes dist/wsh/ (main.js, chunks, meta.json: which source modules each chunk holds). */
export async function bundleCli() {
  // Chunk names carry content hashes: without this, old chunks would pile up beside new ones.
  rmSync(`${CLIENT}dist/wsh`, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: CLIENT,
    entryPoints: { main: 'dist/cli/main.js' },
    outdir: 'dist/wsh',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // CommonJS dependencies (ws) require Node's built-ins, which ES module output cannot do
    // without a require of its own.
    banner: {
      js: "import { createRequire as __wshCreateRequire } from 'node:module'; const require = __wshCreateRequire(import.meta.url);",
    },
    // ws's native helpers (bufferutil masks what the tunnel sends) find their compiled code from
    // their own folder: loaded from node_modules, not bundled.
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [zodEnglishOnly],
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(`${CLIENT}dist/wsh/meta.json`, JSON.stringify(result.metafile));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundleCli();
