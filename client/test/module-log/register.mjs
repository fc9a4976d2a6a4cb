// `node --import` this file to append every module the process loads to $MODULE_LOG, one a line:
// ES modules through a resolve hook, CommonJS ones (what a CJS package requires) through
// Module._load. Written as they load, so a process killed midway still leaves its list.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.MODULE_LOG;
if (log) {
  register(new URL('./hooks.mjs', import.meta.url), { data: { log } });
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    appendFileSync(log, `require ${request} from ${parent?.filename ?? '?'}\n`);
    return load.call(this, request, parent, ...rest);
  };
}
