/**
 * How fast `wsh` starts for what it runs most: `wsh ls`, and `wsh tunnel --stdio`, the ssh
 * ProxyCommand run on every connection. Anchors in the same run: a bare `node -e 0` start plus
 * `curl` of the same hub request (what no Node CLI can go under), alternated with the CLI.
 *   npm run build && npx tsx bench/cli/run.ts
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startFirestoreEmulator, startIapRelay } from '@workspace-hub/testing';
import { percentile, writeSection } from '../lib/results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WSH = join(ROOT, 'client/bin/wsh.js');
const EMAIL = 'bench@example.com';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TOKEN = 'bench-access-token';

/** ms from spawn until `until` says so (first stdout byte, or exit), then the process is ended. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, until: 'exit' | 'byte') {
  return new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    if (until === 'byte')
      child.stdout.once('data', () => {
        resolve(performance.now() - t0);
        child.kill();
      });
    else child.stdout.resume();
    child.once('exit', (code, signal) => {
      if (until === 'exit' && code === 0) resolve(performance.now() - t0);
      else if (until === 'exit' || signal === null)
        reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr}`));
    });
  });
}

/** Peak RSS in MiB and CPU time (user + system, all threads) in ms of a run, from GNU time. */
function resources(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { rssMiB: number; cpuMs: number } {
  const run = spawnSync('/usr/bin/time', ['-f', 'RSS %M CPU %U %S', cmd, ...args], {
    env,
    encoding: 'utf8',
  });
  const m = /RSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(run.stderr);
  if (run.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')}: ${run.stderr}`);
  return { rssMiB: Number(m[1]) / 1024, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
}

async function waitForHub(url: string, hub: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (hub.exitCode !== null) throw new Error('the hub exited');
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the hub did not start');
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const p90 = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    90,
  );
const ms = (x: number) => x.toFixed(0);

async function main(): Promise<void> {
  // What `npm run build` ends with: bin/wsh.js runs the bundle only when it is newer than tsc's build.
  execFileSync(process.execPath, [join(ROOT, 'client/bundle.mjs')], { stdio: 'inherit' });
  const loadBefore = loadavg();
  const emulator = await startFirestoreEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'wsh-bench-cli-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // `npm start`'s launcher, on this emulator: the hub with the local driver.
  const hub = spawn(process.execPath, [join(ROOT, 'local/dist/main.js')], {
    env: {
      ...process.env,
      HUB_URL: url,
      PORT: String(port),
      HUB_DATA_DIR: join(dir, 'hub'),
      GOOGLE_CLOUD_PROJECT: 'bench-cli',
      FIRESTORE_EMULATOR_HOST: emulator.host,
      METADATA_SERVER_DETECTION: 'none',
    },
    stdio: 'ignore',
  });
  let agentPort = 0;
  const relay = await startIapRelay({
    token: TOKEN,
    resolveTarget: () => ({ host: '127.0.0.1', port: agentPort }),
  });
  try {
    await waitForHub(url, hub);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    const env = {
      ...process.env,
      WSH_CONFIG_DIR: join(dir, 'config'),
      WSH_HUB: url,
      WSH_DEV_EMAIL: EMAIL,
      METADATA_SERVER_DETECTION: 'none',
    };
    const iapEnv = {
      ...env,
      WSH_TRANSPORT: 'iap',
      WSH_IAP_RELAY_URL: relay.url,
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: join(dir, 'token'),
    };
    const ws = JSON.parse(
      execFileSync(process.execPath, [WSH, 'create', '--json'], { env, encoding: 'utf8' }),
    ) as { id: string; agent: { port: number } };
    agentPort = ws.agent.port;
    const auth = ['-H', `authorization: Bearer dev:${EMAIL}`];
    const runs = {
      node: () => timed(process.execPath, ['-e', '0'], env, 'exit'),
      zod: () =>
        timed(process.execPath, ['--input-type=module', '-e', "await import('zod')"], env, 'exit'),
      curlList: () => timed('curl', ['-sf', ...auth, `${url}/workspaces`], env, 'exit'),
      curlGet: () => timed('curl', ['-sf', ...auth, `${url}/workspaces/${ws.id}`], env, 'exit'),
      ls: () => timed(process.execPath, [WSH, 'ls'], env, 'exit'),
      tunnel: () => timed(process.execPath, [WSH, 'tunnel', ws.id, '--stdio'], env, 'byte'),
      tunnelIap: () => timed(process.execPath, [WSH, 'tunnel', ws.id, '--stdio'], iapEnv, 'byte'),
    };
    const times = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as number[]])) as Record<
      keyof typeof runs,
      number[]
    >;
    // Alternated, so a burst of load from elsewhere touches every measure alike; round 0 warms up.
    for (let round = 0; round <= ROUNDS; round++)
      for (const [name, run] of Object.entries(runs)) {
        const t = await run();
        if (round > 0) times[name as keyof typeof runs].push(t);
      }
    // CPU time depends less on what else runs than wall time does (GNU time counts 10 ms ticks).
    type Used = ReturnType<typeof resources>;
    const used: { node: Used[]; ls: Used[] } = { node: [], ls: [] };
    for (let i = 0; i < 9; i++) {
      used.node.push(resources(process.execPath, ['-e', '0'], env));
      used.ls.push(resources(process.execPath, [WSH, 'ls'], env));
    }
    const rss = {
      node: median(used.node.map((u) => u.rssMiB)),
      ls: median(used.ls.map((u) => u.rssMiB)),
    };
    const cpu = {
      node: median(used.node.map((u) => u.cpuMs)),
      ls: median(used.ls.map((u) => u.cpuMs)),
    };
    const loadAfter = loadavg();

    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
      keyof typeof runs,
      number
    >;
    const lsAnchor = m.node + m.curlList;
    const getAnchor = m.node + m.curlGet;
    const row = (what: string, cli: number, anchor: number, target: string, met?: boolean) =>
      `| ${what} | ${ms(cli)} | ${ms(anchor)} | **${(cli / anchor).toFixed(2)}** | ${target} | ${met === undefined ? '' : met ? 'yes' : 'no'} |`;
    const body = [
      `Load average (1, 5, 15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}; after: ${loadAfter.map((l) => l.toFixed(2)).join(', ')}. The machine's 2 cores were shared with other work during the run, so absolute times are high and noisy; the ratios come from the same alternated rounds.`,
      '',
      `A local hub (HUB_DRIVER=local, HUB_AUTH=dev, Firestore emulator) with one READY workspace; ${ROUNDS} alternated rounds after a warm-up, medians (p90 in brackets). Anchor: \`node -e 0\` (${ms(m.node)} ms) + \`curl\` of the same request. \`tunnel\` times the first byte on stdout (the agent's SSH banner); \`iap\` goes through the IAP relay fake with an access-token file, as the ProxyCommand does for real hubs.`,
      '',
      '| measure | wsh, ms | anchor, ms | ratio | target | met |',
      '|---|---|---|---|---|---|',
      row(
        `\`wsh ls\` to exit (p90 ${ms(p90(times.ls))}) vs node + \`curl /workspaces\` (${ms(m.curlList)})`,
        m.ls,
        lsAnchor,
        '≤ 3×, < 250 ms',
        m.ls / lsAnchor <= 3 && m.ls < 250,
      ),
      row(
        `\`wsh ls\` vs a floor: node importing zod (${ms(m.zod)}), which validates every answer, + \`curl\``,
        m.ls,
        m.zod + m.curlList,
        '',
      ),
      row(
        `\`wsh tunnel --stdio\` direct, to first byte (p90 ${ms(p90(times.tunnel))}) vs node + \`curl /workspaces/ID\` (${ms(m.curlGet)})`,
        m.tunnel,
        getAnchor,
        '',
      ),
      row(
        `\`wsh tunnel --stdio\` via IAP relay fake, to first byte (p90 ${ms(p90(times.tunnelIap))})`,
        m.tunnelIap,
        getAnchor,
        '',
      ),
      `| CPU time (user + system), ms, median of 9: \`wsh ls\` vs \`node -e 0\` | ${ms(cpu.ls)} | ${ms(cpu.node)} | **${(cpu.ls / cpu.node).toFixed(2)}** | | |`,
      `| peak RSS, MiB (median of 9): \`wsh ls\` vs \`node -e 0\` | ${rss.ls.toFixed(0)} | ${rss.node.toFixed(0)} | **${(rss.ls / rss.node).toFixed(2)}** | | |`,
    ].join('\n');
    writeSection('cli', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await relay.close();
    hub.kill('SIGTERM');
    await new Promise((r) => (hub.exitCode !== null ? r(null) : hub.once('exit', r)));
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
