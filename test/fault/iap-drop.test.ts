import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type IapRelay, startIapRelay } from '@workspace-hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IapTunnelListener, listenIapTunnel } from '../../client/src/iap-tunnel/index.js';
import { type KeyPair, startAgentForLaptop, type TestAgent } from '../../vm-agent/test/helpers.js';
import { MB, scpQuietly, sha256File, writeRandomFile } from './files.js';

/**
 * Stock `scp` to a vm-agent through the IAP tunnel client (what `wsh tunnel`
 * runs) and the relay fake, which breaks the WebSocket mid-transfer. SSH's
 * MACs would reject a byte lost or repeated in the resumed stream; the sha256
 * of the file on both ends says the same of what arrived.
 */
const SIZE = 64 * MB;
const TOKEN = 'fault-access-token';
const TIMEOUT = 120_000;

let agent: TestAgent;
let laptop: KeyPair;
let local: string;
let original: string;
let relay: IapRelay;
let tunnel: IapTunnelListener;
/** The agent's host key pinned at the tunnel's local port, as `wsh` pins it. */
let viaTunnel: { port: number; knownHosts: string };

beforeAll(async () => {
  ({ agent, laptop, local } = await startAgentForLaptop('fault-iap-'));
  relay = await startIapRelay({ token: TOKEN });
  tunnel = await listenIapTunnel({
    project: 'p1',
    zone: 'europe-west1-b',
    instance: 'ws-faultdrop1',
    port: agent.port,
    relayUrl: relay.url,
    getToken: async () => TOKEN,
    localPort: 0,
  });
  const knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${tunnel.port} ${agent.hostPublicKey}\n`);
  viaTunnel = { port: tunnel.port, knownHosts };
  original = await writeRandomFile(join(local, 'big.bin'), SIZE);
}, TIMEOUT);

afterAll(async () => {
  await tunnel?.close();
  await relay?.close();
  await agent?.close();
});

const reconnects = () => relay.requests.filter((r) => r.path === '/v4/reconnect').length;

describe(`scp of ${SIZE / MB} MB through the IAP tunnel while the relay drops the WebSocket`, () => {
  it(
    'uploads across a drop with every byte once',
    async () => {
      const before = reconnects();
      relay.dropAfter(SIZE / 3);
      await scpQuietly(viaTunnel, laptop, join(local, 'big.bin'), 'dev@127.0.0.1:up.bin');
      expect(reconnects() - before).toBeGreaterThanOrEqual(1);
      expect(await sha256File(join(agent.home, 'up.bin'))).toBe(original);
    },
    TIMEOUT,
  );

  it(
    'downloads across a drop with every byte once',
    async () => {
      const before = reconnects();
      relay.dropAfter(SIZE / 3);
      await scpQuietly(viaTunnel, laptop, 'dev@127.0.0.1:up.bin', join(local, 'down.bin'));
      expect(reconnects() - before).toBeGreaterThanOrEqual(1);
      expect(await sha256File(join(local, 'down.bin'))).toBe(original);
    },
    TIMEOUT,
  );
});
