// Builds functions/deploy/: what Cloud Functions' build needs, without our
// unpublished workspace packages. Our code (functions + core) is bundled into
// one file; Google's client libraries stay external (they load protos from
// their own folders at run time) and are listed in a generated package.json.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const require = createRequire(import.meta.url);
const EXTERNAL = [
  '@google-cloud/functions-framework',
  '@google-cloud/firestore',
  '@google-cloud/compute',
  'google-auth-library',
];
/** The installed version, found beside the package's entry point (some packages don't export ./package.json). */
function versionOf(name) {
  let dir = dirname(require.resolve(name));
  while (
    !existsSync(join(dir, 'package.json')) ||
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name
  )
    dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

const out = here('../deploy');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [here('../dist/index.js')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  outfile: `${out}/index.js`,
  external: EXTERNAL,
  logLevel: 'warning',
});
writeFileSync(
  `${out}/package.json`,
  `${JSON.stringify(
    {
      name: 'workspace-hub-functions',
      private: true,
      type: 'module',
      main: 'index.js',
      engines: { node: '>=22' },
      dependencies: Object.fromEntries(EXTERNAL.map((n) => [n, versionOf(n)])),
    },
    null,
    2,
  )}\n`,
);
console.log(`functions/deploy ready: zip it and upload it (see terraform/workspace-hub/README.md)`);
