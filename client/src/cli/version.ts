import { readFileSync } from 'node:fs';

/** wsh's own version: the client package's (dist/cli/, the bundle's dist/wsh/ and src/cli/ all sit two levels below it). */
export const WSH_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
