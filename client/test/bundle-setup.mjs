// Vitest global set-up: tests run `wsh` as users do, through bin/wsh.js and the bundle, so the
// bundle is made from what `tsc -b` last built before any test starts.
export { bundleCli as setup } from '../bundle.mjs';
