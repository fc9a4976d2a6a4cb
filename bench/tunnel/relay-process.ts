// The relay fake in a process of its own, so the client under test does not share its event loop.
import { startIapRelay } from '../../testing/src/iap-relay/index.js';
import { endWithParent } from '../lib/side-process.js';

const relay = await startIapRelay({
  token: process.env.BENCH_RELAY_TOKEN ?? 'bench-token',
  tls: process.argv.includes('--tls'),
});
process.stdout.write(`${relay.url}\n`);
endWithParent(() => relay.close());
