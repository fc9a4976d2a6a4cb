import { readdir, unlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { synthesizeModule } from './synthesize.js';

/** Regenerates the committed module: `npm run synth -w @workspace-hub/terraform`. */
const moduleDir = fileURLToPath(new URL('../', import.meta.url));
const files = synthesizeModule();
for (const stale of await readdir(moduleDir)) {
  if (stale.endsWith('.tf.json') && !(stale in files)) await unlink(`${moduleDir}${stale}`);
}
for (const [name, content] of Object.entries(files))
  await writeFile(`${moduleDir}${name}`, content);
console.log(`wrote ${Object.keys(files).join(', ')} to ${moduleDir}`);
