/** `npm run docs`: rewrites docs/ARCHITECTURE.md's environment tables from the config schemas. */
import { readFileSync, writeFileSync } from 'node:fs';
import { ARCHITECTURE_MD, rewriteEnvTables } from './env-tables.js';

const before = readFileSync(ARCHITECTURE_MD, 'utf8');
const after = rewriteEnvTables(before);
if (after !== before) writeFileSync(ARCHITECTURE_MD, after);
console.log(
  `docs/ARCHITECTURE.md: environment tables ${after === before ? 'unchanged' : 'rewritten'}`,
);
