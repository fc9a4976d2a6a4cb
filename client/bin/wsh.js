#!/usr/bin/env node
// Checked in (not built) so `npm install` can link the bin before the first build.
import('../dist/cli/main.js').catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('wsh: not built yet: run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
});
