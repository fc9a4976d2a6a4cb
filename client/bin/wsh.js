#!/usr/bin/env node
// Checked in (not built) so `npm install` can link the bin before the first build.
import { statSync } from 'node:fs';

const mtime = (path) =>
  statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs;
// The bundle `npm run build` writes (client/bundle.mjs) starts in half the time of the modules
// tsc writes. After a bare `tsc -b` it is older than the client's build info: run tsc's output
// then, so wsh never runs code older than the last build.
const bundle = mtime('../dist/wsh/main.js');
const main =
  bundle !== undefined && bundle >= (mtime('../tsconfig.tsbuildinfo') ?? 0)
    ? '../dist/wsh/main.js'
    : '../dist/cli/main.js';

import(main).catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(main.slice(3))) {
    process.stderr.write('wsh: not built yet: run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
});
