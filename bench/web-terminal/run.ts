/**
 * The browser terminal's path (WebSocket → hub → the hub's SSH connection → vm-agent) against
 * SSH straight to the same agent, in one run on loopback: keystroke echo, 1,000 concurrent
 * sockets on one hub process, and reconnect with a full scrollback. `npx tsx bench/web-terminal/run.ts`
 */
import { loadavg } from 'node:os';
import { percentile, writeSection } from '../lib/results.js';
import { keystrokeRtts, outputContains, startEcho } from './echo.js';
import { startBenchHub } from './local-hub.js';
import { sshConnection, type TerminalPath, viaHub, viaSsh } from './terminal-paths.js';

const ROUNDS = 10;
const KEYS_PER_ROUND = 100;
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 500);
const KEYS_PER_SOCKET = 10;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const p = (xs: number[], q: number) => percentile(sorted(xs), q);

async function inBatches<T>(n: number, batch: number, make: (i: number) => Promise<T>) {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch)
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => make(i + j)))),
    );
  return out;
}

async function main() {
  const load = loadavg().map((l) => l.toFixed(2));
  const hub = await startBenchHub('bench@example.com');
  const ssh = await sshConnection(hub);
  const rows: string[] = [];
  try {
    // 1. Keystroke echo, the two paths alternating round by round on sessions of their own.
    const web = await viaHub(hub, 'echo-web');
    const direct = await viaSsh(ssh, 'echo-ssh');
    await Promise.all([startEcho(web), startEcho(direct)]);
    await keystrokeRtts(web, 'w', 50);
    await keystrokeRtts(direct, 's', 50);
    const webRtts: number[] = [];
    const sshRtts: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      sshRtts.push(...(await keystrokeRtts(direct, 's', KEYS_PER_ROUND)));
      webRtts.push(...(await keystrokeRtts(web, 'w', KEYS_PER_ROUND)));
    }
    const echoRatio = p(webRtts, 99) / p(sshRtts, 99);
    rows.push(
      `| keystroke echo p50 (${ROUNDS * KEYS_PER_ROUND} keystrokes each) | ${ms(p(webRtts, 50))} | ${ms(p(sshRtts, 50))} | ${(p(webRtts, 50) / p(sshRtts, 50)).toFixed(2)} | — | |`,
      `| keystroke echo p99 | ${ms(p(webRtts, 99))} | ${ms(p(sshRtts, 99))} | **${echoRatio.toFixed(2)}** | ≤ 1.5× | ${echoRatio <= 1.5 ? 'yes' : 'no'} |`,
    );
    web.close();
    direct.close();

    // 2. Reconnect: a page drops its socket and opens a new one on a session with a full ring.
    const filler = await viaHub(hub, 'replay');
    const filled = outputContains(filler, 'FILLED_MARK');
    filler.write("head -c 900000 /dev/urandom | base64; echo FILL''ED_MARK\n");
    await filled;
    filler.close();
    const webReplays: number[] = [];
    const sshReplays: number[] = [];
    for (let i = 0; i < 10; i++) {
      let t0 = performance.now();
      const again = await viaHubReplaying(hub, 'replay');
      webReplays.push(performance.now() - t0);
      again.close();
      t0 = performance.now();
      const sshAgain = await viaSshReplaying(ssh, 'replay');
      sshReplays.push(performance.now() - t0);
      sshAgain.close();
    }
    const replayMedian = p(webReplays, 50);
    rows.push(
      `| reconnect, 1 MiB scrollback replayed: new socket + upgrade + attach + replay (median of 10; anchor: attach + replay on an open SSH connection) | ${ms(replayMedian)} | ${ms(p(sshReplays, 50))} | ${(replayMedian / p(sshReplays, 50)).toFixed(2)} | < 100 ms | ${replayMedian < 100 ? 'yes' : 'no'} |`,
    );

    // 3. Many sockets on one hub process: SESSIONS sessions, SOCKETS sockets spread over them.
    const t0 = performance.now();
    const sockets = await inBatches(SOCKETS, 50, (i) => viaHub(hub, `many-${i % SESSIONS}`));
    const connectS = (performance.now() - t0) / 1000;
    await inBatches(SESSIONS, 50, (i) => startEcho(sockets[i]!));
    // Each socket types its own key about once a second; all at once.
    const keys = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const many = (
      await Promise.all(
        sockets.map((s, i) =>
          keystrokeRtts(
            s,
            keys[Math.floor(i / SESSIONS) % keys.length]!,
            KEYS_PER_SOCKET,
            () => Math.random() * 2000,
          ),
        ),
      )
    ).flat();
    const manyP99 = p(many, 99);
    rows.push(
      `| ${SOCKETS} sockets on ${SESSIONS} sessions, one hub process, each typing ~1 key/s: echo p50 (anchor: one idle socket's p50 above) | ${ms(p(many, 50))} | ${ms(p(webRtts, 50))} | ${(p(many, 50) / p(webRtts, 50)).toFixed(2)} | — | |`,
      `| the same: echo p99 (${many.length} keystrokes; ${SOCKETS} sockets opened and attached in ${connectS.toFixed(1)} s) | ${ms(manyP99)} | ${ms(p(webRtts, 99))} | ${(manyP99 / p(webRtts, 99)).toFixed(2)} | < 100 ms | ${manyP99 < 100 ? 'yes' : 'no'} |`,
    );
    for (const s of sockets) s.close();

    const body = `Load average before the run: ${load.join(', ')}. \`npx tsx bench/web-terminal/run.ts\`: \`node local/dist/main.js\` (\`npm start\`'s hub in its own process: local driver, dev identities; on a Firestore emulator) with one workspace, its vm-agent on 127.0.0.1, sessions running \`/bin/sh\`; the benchmark process holds every client. Browser path: a \`ws\` WebSocket to \`/workspaces/:id/terminal\` → the hub → its pooled SSH connection → the agent. Anchor: an ssh2 client straight to the same agent (what \`ssh\` does). Echo: \`cat\` on a raw terminal sends each keystroke back; one keystroke at a time, after 50 warm-up keystrokes, the two paths alternating in ${ROUNDS} rounds of ${KEYS_PER_ROUND}. Reconnect: a session whose ring holds 1 MiB (\`base64\` of 900 kB of random bytes), a new socket attaching until the last line arrives. Many sockets: ${SOCKETS} sockets (one user, so the hub multiplexes them on one SSH connection) on ${SESSIONS} sessions, each typing ${KEYS_PER_SOCKET} keys 0–2 s apart. Loopback only, 2 shared cores: the hub, the agent, ${SESSIONS} shells and the clients share them.\n\n| measure | through the hub | anchor | ratio | target | met |\n|---|---|---|---|---|---|\n${rows.join('\n')}`;
    writeSection('web-terminal', body);
    process.stdout.write(`${body}\n`);
  } finally {
    ssh.end();
    await hub.stop();
  }
}

/** A new socket attached to `session`, resolved once its replay reached the fill's last line. */
async function viaHubReplaying(hub: Parameters<typeof viaHub>[0], session: string) {
  return replayed(viaHub(hub, session));
}

async function viaSshReplaying(ssh: Parameters<typeof viaSsh>[0], session: string) {
  return replayed(viaSsh(ssh, session));
}

async function replayed(opening: Promise<TerminalPath>): Promise<TerminalPath> {
  // Output before `attached` is none: the replay follows it, and the listener sees it all.
  const path = await opening;
  await outputContains(path, 'FILLED_MARK', 10_000);
  return path;
}

await main();
