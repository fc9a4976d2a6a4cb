import { readFileSync } from 'node:fs';

/** This package's version, from its package.json (two folders up from `src/` and `dist/` files). */
export const CLIENT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
