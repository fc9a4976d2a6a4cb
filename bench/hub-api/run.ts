/**
 * bench/hub-api: the hub against a bare Hono app and the direct Firestore query.
 * Run: npx tsx bench/hub-api/run.ts (after `npm run build`; the load rows need `wrk`, and are
 * left out without it).
 */
process.env.METADATA_SERVER_DETECTION ??= 'none';

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createFirestore, newWorkspace, WorkspaceStore } from '@workspace-hub/core';
import { freePort, startFirestoreEmulator } from '@workspace-hub/testing';
import { hasCommand, percentile, writeSection } from '../lib/results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWNER = 'bench@example.com';
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 8);
/** Each load row is measured in two halves: anchor, hub, hub, anchor (see `alternated`). */
const HALF_S = DURATION_S / 2;
const CONNECTIONS = 16;

interface Load {
  rps: number;
  p50: number;
  p99: number;
}

function wrk(url: string, headers: Record<string, string> = {}): Load {
  const args = ['-t2', `-c${CONNECTIONS}`, `-d${HALF_S}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const out = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const ms = (s: string) => {
    const m = s.match(/([\d.]+)(us|ms|s)/)!;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)![1]),
    // Anchored to the Latency Distribution's lines: the stdev columns end in `…50%` or `…99%` too.
    p50: ms(out.match(/^\s+50%\s+(\S+)/m)![1]!),
    p99: ms(out.match(/^\s+99%\s+(\S+)/m)![1]!),
  };
}

function startProcess(cmd: string[], env: Record<string, string>): ChildProcess {
  return spawn(cmd[0]!, cmd.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
}

async function waitFor200(url: string, headers: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try {
      if ((await fetch(url, { headers })).ok) return performance.now() - t0;
    } catch {}
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function coldStart(
  cmd: string[],
  env: Record<string, string>,
  path = '/health',
  headers: Record<string, string> = {},
  runs = 5,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const child = startProcess(cmd, { ...env, PORT: String(port) });
    await waitFor200(`http://127.0.0.1:${port}${path}`, headers);
    times.push(performance.now() - t0);
    child.kill('SIGKILL');
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** The same query the hub's list makes, with the same concurrency, straight from the client. */
async function directQuery(store: WorkspaceStore, ownerId: string): Promise<Load> {
  const lat: number[] = [];
  const until = performance.now() + HALF_S * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        await store.list({ ownerId, limit: 50 });
        lat.push(performance.now() - s);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return {
    rps: lat.length / ((performance.now() - t0) / 1000),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
  };
}

/**
 * Anchor, subject, subject, anchor, and each side's mean: on a shared machine load from
 * elsewhere comes and goes, and this way it touches both sides alike.
 */
async function alternated(
  anchor: () => Load | Promise<Load>,
  subject: () => Load | Promise<Load>,
): Promise<{ subject: Load; anchor: Load }> {
  const a1 = await anchor();
  const s1 = await subject();
  const s2 = await subject();
  const a2 = await anchor();
  const mean = (x: Load, y: Load): Load => ({
    rps: (x.rps + y.rps) / 2,
    p50: (x.p50 + y.p50) / 2,
    p99: (x.p99 + y.p99) / 2,
  });
  return { subject: mean(s1, s2), anchor: mean(a1, a2) };
}

async function main() {
  const withWrk = hasCommand('wrk');
  const loadBefore = loadavg();
  const emulator = await startFirestoreEmulator();
  const projectId = 'bench-hub-api';
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const db = createFirestore(projectId, emulator.host);
  const store = new WorkspaceStore(db);
  const policy = {
    projectId,
    defaultZone: 'europe-west1-b',
    allowedZones: ['europe-west1-b'],
    defaultMachineType: 'e2-standard-4',
    allowedMachineTypes: [],
    defaultDiskSizeGb: 50,
    defaultImageTag: 'latest',
    idleTimeoutMinutes: 240,
  };
  const sub = `dev:${OWNER}`;
  for (let i = 0; i < 100; i++)
    await store.create(
      newWorkspace({ sub, email: OWNER }, {}, policy, new Date(Date.now() - i * 1000)),
    );

  // As Cloud Run runs it (the gce driver; the list makes no Compute call), with dev identities.
  const hubEnv = {
    HUB_DRIVER: 'gce',
    HUB_URL: 'https://workspace-hub-123.europe-west1.run.app',
    HUB_WORKSPACE_IMAGE: 'europe-docker.pkg.dev/bench-hub-api/workspace-hub/workspace:v1',
    HUB_AUTH: 'dev',
    GOOGLE_CLOUD_PROJECT: projectId,
    FIRESTORE_EMULATOR_HOST: emulator.host,
  };
  const hubCmd = [process.execPath, 'hub/dist/main.js'];
  const bareCmd = [process.execPath, 'bench/hub-api/bare-hono.mjs'];
  const bareQueryCmd = [process.execPath, 'bench/hub-api/bare-hono-firestore.mjs'];
  const bareQueryEnv = {
    GOOGLE_CLOUD_PROJECT: projectId,
    FIRESTORE_EMULATOR_HOST: emulator.host,
    BENCH_OWNER: OWNER,
  };
  const hubPort = await freePort();
  const barePort = await freePort();
  const hub = startProcess(hubCmd, { ...hubEnv, PORT: String(hubPort) });
  const bare = startProcess(bareCmd, { PORT: String(barePort) });
  const auth = { Authorization: `Bearer dev:${OWNER}` };
  try {
    await waitFor200(`http://127.0.0.1:${hubPort}/health`);
    await waitFor200(`http://127.0.0.1:${barePort}/health`);
    const listUrl = `http://127.0.0.1:${hubPort}/workspaces?limit=50`;
    const check = await (await fetch(listUrl, { headers: auth })).json();
    if (check.workspaces.length !== 50)
      throw new Error('the hub did not list the seeded workspaces');

    const health = withWrk
      ? await alternated(
          () => wrk(`http://127.0.0.1:${barePort}/health`),
          () => wrk(`http://127.0.0.1:${hubPort}/health`),
        )
      : null;
    const listing = withWrk
      ? await alternated(
          () => directQuery(store, sub),
          () => wrk(listUrl, auth),
        )
      : null;
    const healthBare = health?.anchor;
    const healthHub = health?.subject;
    const direct = listing?.anchor;
    const list = listing?.subject;
    hub.kill('SIGTERM');
    bare.kill('SIGTERM');
    // Cold starts alternate (bare, bare + query, hub, hub to its first list), so load from
    // elsewhere touches each alike; each row is the median of its 5.
    const cold = {
      bare: [] as number[],
      bareQuery: [] as number[],
      hub: [] as number[],
      list: [] as number[],
    };
    for (let i = 0; i < 5; i++) {
      cold.bare.push(await coldStart(bareCmd, {}, '/health', {}, 1));
      cold.bareQuery.push(await coldStart(bareQueryCmd, bareQueryEnv, '/workspaces', {}, 1));
      cold.hub.push(await coldStart(hubCmd, hubEnv, '/health', {}, 1));
      // The first real request also waits for the app behind /health (Firestore client, routes).
      cold.list.push(await coldStart(hubCmd, hubEnv, '/workspaces?limit=50', auth, 1));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const coldBare = med(cold.bare);
    const coldBareQuery = med(cold.bareQuery);
    const coldHub = med(cold.hub);
    const coldList = med(cold.list);
    const loadAfter = loadavg();

    const r = (x: number) => x.toFixed(2);
    const loadRows = (
      healthHub && healthBare && direct && list
        ? [
            [
              'GET /health req/s',
              healthHub.rps,
              healthBare.rps,
              healthHub.rps / healthBare.rps,
              '≥ 0.8× bare Hono',
            ],
            [
              'GET /health p99 ms',
              healthHub.p99,
              healthBare.p99,
              healthHub.p99 / healthBare.p99,
              '',
            ],
            ['list 50 of 100: req/s', list.rps, direct.rps, list.rps / direct.rps, ''],
            [
              'list 50 of 100: p50 ms',
              list.p50,
              direct.p50,
              list.p50 / direct.p50,
              '≤ 1.2× direct query',
            ],
            ['list 50 of 100: p99 ms', list.p99, direct.p99, list.p99 / direct.p99, ''],
          ]
        : []
    ) as [string, number, number, number, string][];
    const rows: [string, number, number, number, string][] = [
      ...loadRows,
      [
        `cold start to first 200, ms (median of 5; each: ${cold.hub.map((x) => x.toFixed(0)).join(', ')} vs ${cold.bare.map((x) => x.toFixed(0)).join(', ')})`,
        coldHub,
        coldBare,
        coldHub / coldBare,
        '≤ 1.5× bare Hono',
      ],
      [
        `cold start to the first authenticated GET /workspaces 200 (50 of 100) vs a bare Hono app answering the same query made directly with the Firestore client, ms (median of 5; each: ${cold.list.map((x) => x.toFixed(0)).join(', ')} vs ${cold.bareQuery.map((x) => x.toFixed(0)).join(', ')})`,
        coldList,
        coldBareQuery,
        coldList / coldBareQuery,
        '≤ 2×',
      ],
      [
        'the same, against the bare Hono start alone',
        coldList,
        coldBare,
        coldList / coldBare,
        '(for the record)',
      ],
    ];
    const table = [
      '| measure | hub | anchor | ratio | target |',
      '|---|---|---|---|---|',
      ...rows.map(([m, h, a, ratio, t]) => `| ${m} | ${r(h)} | ${r(a)} | **${r(ratio)}** | ${t} |`),
    ].join('\n');
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
    const body = [
      `Load average (1, 5, 15 min) before: ${load(loadBefore)}; after: ${load(loadAfter)} (2 cores shared with other work: absolute times are high and noisy, the ratios come from alternated runs).`,
      '',
      `Anchors: a bare Hono app on the same server adapter (\`bench/hub-api/bare-hono.mjs\`: health, cold start); the same app answering \`GET /workspaces\` with the hub's list query made directly with the Firestore client (\`bare-hono-firestore.mjs\`: the cold start of a real request, with nothing of the hub); the hub's own list query made directly at the same concurrency (list). ${withWrk ? `wrk, ${CONNECTIONS} connections, ${DURATION_S} s per row in two halves alternated with its anchor (anchor, hub, hub, anchor; means of the halves)` : 'wrk is not installed here: the load rows were not measured this run'}; Firestore emulator on loopback, 100 workspaces of one owner.`,
      '',
      table,
    ].join('\n');
    console.log(body);
    writeSection('hub-api', body);
  } finally {
    hub.kill('SIGKILL');
    bare.kill('SIGKILL');
    await db.terminate();
    await emulator.stop();
  }
}

await main();
