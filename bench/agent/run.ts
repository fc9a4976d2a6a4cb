/**
 * vm-agent against the anchor users would otherwise pick: OpenSSH's sshd with
 * tmux. Both run on 127.0.0.1 side by side and are driven by the same ssh2
 * client: keystroke echo latency, pty throughput, re-attach with a full
 * scrollback, and memory per idle session.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@workspace-hub/testing';
import ssh2 from 'ssh2';
import { percentile, writeSection } from '../lib/results.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
const TMUX = `tmux -L wshbench -f ${join(dir, 'tmux.conf')}`;
const children: ChildProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? Number.NaN);
}

/**
 * Waits for a marker in a stream without keeping everything it printed (64 MB
 * passes through). Markers contain `_`, which the base64 text the terminals
 * print never does, so they cannot match by chance.
 */
class Watcher {
  private tail = '';
  private waiting: { marker: string; resolve: () => void } | null = null;
  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (d: Buffer) => {
      this.tail = (this.tail + d.toString('latin1')).slice(-4096);
      if (this.waiting && this.tail.includes(this.waiting.marker)) {
        const w = this.waiting;
        this.waiting = null;
        this.tail = '';
        w.resolve();
      }
    });
  }
  reset(): void {
    this.tail = '';
  }
  /** Resolves when `marker` shows up in output arriving after the previous wait. */
  waitFor(marker: string, timeoutMs = 120_000): Promise<void> {
    if (this.tail.includes(marker)) {
      this.tail = '';
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${marker}`)), timeoutMs);
      this.waiting = {
        marker,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
    });
  }
}

interface Target {
  name: string;
  port: number;
  user: string;
  /** The command that attaches (creating if needed) the persistent terminal NAME. */
  attach: (name: string) => string;
}

const key = join(dir, 'client_key');
function connect(t: Target): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.once('ready', () => {
      c.setNoDelay(true);
      resolve(c);
    });
    c.once('error', reject);
    c.connect({
      host: '127.0.0.1',
      port: t.port,
      username: t.user,
      privateKey: readFileSync(key),
      readyTimeout: 30_000,
    });
  });
}

function openTerminal(c: ssh2.Client, command: string): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) =>
    c.exec(command, { pty: { term: 'xterm-256color', rows: 40, cols: 120 } }, (err, s) =>
      err ? reject(err) : resolve(s),
    ),
  );
}

async function setUp(): Promise<{ sshd: Target; agent: Target; agentPid: number }> {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  writeFileSync(join(dir, 'tmux.conf'), 'set -g history-limit 100000\n');
  mkdirSync('/run/sshd', { recursive: true });
  const sshdPort = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${sshdPort}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'MaxSessions 200',
      'MaxStartups 100',
      'AcceptEnv LANG LC_*',
      '',
    ].join('\n'),
  );
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: 'ignore',
  });
  children.push(sshd);

  execFileSync('npx', ['tsc', '-b', 'vm-agent'], { cwd: ROOT, stdio: 'inherit' });
  const agentPort = await freePort();
  const agent = spawn(process.execPath, [join(ROOT, 'vm-agent/dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SHELL: '/bin/bash',
      AGENT_PORT: String(agentPort),
      AGENT_LISTEN_HOST: '127.0.0.1',
      AGENT_HOME: join(dir, 'agent-home'),
      AGENT_AUTHORIZED_KEYS_FILE: join(dir, 'authorized_keys'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(agent);
  await new Watcher(agent.stdout!).waitFor('vm-agent ready', 30_000);
  agent.stdout!.resume();
  for (let i = 0; i < 50; i++) {
    try {
      (await connect({ name: 'sshd', port: sshdPort, user: 'root', attach: () => '' })).end();
      break;
    } catch {
      await sleep(100);
    }
  }
  return {
    sshd: {
      name: 'sshd+tmux',
      port: sshdPort,
      user: 'root',
      attach: (n) => `${TMUX} new-session -A -s ${n}`,
    },
    agent: { name: 'vm-agent', port: agentPort, user: 'dev', attach: (n) => `attach ${n}` },
    agentPid: agent.pid!,
  };
}

/** A terminal running `cat` in raw mode, so every keystroke is echoed by a program, as in an editor. */
async function echoTerminal(
  t: Target,
  session: string,
): Promise<{ send: (ch: string) => Promise<number>; close: () => void }> {
  const c = await connect(t);
  // A fresh session each time: an earlier one is still running `cat`, which would echo the set-up.
  const stream = await openTerminal(c, t.attach(session));
  const w = new Watcher(stream);
  stream.write('stty raw -echo; echo RDY$((1+1)); exec cat\r');
  await w.waitFor('RDY2');
  await sleep(300);
  return {
    send: async (ch) => {
      // Let the previous echo's trailing bytes (cursor and colour sequences) arrive and be dropped.
      await sleep(3);
      w.reset();
      const start = process.hrtime.bigint();
      const seen = w.waitFor(ch, 10_000);
      stream.write(ch);
      await seen;
      return Number(process.hrtime.bigint() - start) / 1e6;
    },
    close: () => c.end(),
  };
}

async function echoLatency(targets: Target[], session: string): Promise<Map<string, number[]>> {
  const terms = await Promise.all(targets.map((t) => echoTerminal(t, session)));
  const samples = new Map(targets.map((t) => [t.name, [] as number[]]));
  // Letters that terminal control sequences do not end in, so only the echo itself matches.
  const letters = 'qwxyz';
  // Alternate in rounds so drift in machine load hits both alike.
  for (let round = 0; round < 10; round++)
    for (const [i, t] of targets.entries())
      for (let k = 0; k < 100; k++)
        samples.get(t.name)!.push(await terms[i]!.send(letters[k % letters.length]!));
  for (const term of terms) term.close();
  return samples;
}

async function throughput(t: Target, file: string, bytes: number): Promise<number> {
  const c = await connect(t);
  const stream = await openTerminal(c, t.attach('bulk'));
  const w = new Watcher(stream);
  stream.write('echo RDY$((2+2))\r');
  await w.waitFor('RDY4');
  const start = process.hrtime.bigint();
  stream.write(`cat ${file}; echo DN_$((6*7))_\r`);
  await w.waitFor('DN_42_', 600_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  c.end();
  return bytes / 1024 / 1024 / seconds;
}

/**
 * Fills a terminal's scrollback (> 1 MiB), then times re-attaching until the
 * last line is on screen: on an open SSH connection (attach + replay), and
 * with a fresh connection (handshake + auth + attach + replay).
 */
async function reattach(
  t: Target,
  fill: string,
): Promise<{ attach: number[]; reconnect: number[] }> {
  const c = await connect(t);
  const stream = await openTerminal(c, t.attach('scroll'));
  const w = new Watcher(stream);
  stream.write(`cat ${fill}; echo MARK_$((5*5))_\r`);
  await w.waitFor('MARK_25_', 120_000);
  c.end();
  const reconnect: number[] = [];
  const attach: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(200);
    const start = process.hrtime.bigint();
    const again = await connect(t);
    const connected = process.hrtime.bigint();
    const s = await openTerminal(again, t.attach('scroll'));
    await new Watcher(s).waitFor('MARK_25_', 30_000);
    const end = process.hrtime.bigint();
    reconnect.push(Number(end - start) / 1e6);
    attach.push(Number(end - connected) / 1e6);
    again.end();
  }
  return { attach, reconnect };
}

async function idleMemory(
  t: Target,
  pidOf: () => number,
  count: number,
): Promise<{ before: number; after: number }> {
  const c = await connect(t);
  const before = rssKiB(pidOf());
  for (let i = 0; i < count; i++) {
    const s = await openTerminal(c, t.attach(`idle${i}`));
    const w = new Watcher(s);
    s.write(`echo UP$((${i}+1000))\r`);
    await w.waitFor(`UP${i + 1000}`, 30_000);
    // Detach: the terminal keeps running without a client.
    if (t.name === 'vm-agent') s.close();
    else s.write('\x02d');
    await new Promise((r) => s.once('close', r));
  }
  c.end();
  await sleep(2000);
  return { before, after: rssKiB(pidOf()) };
}

function textFile(path: string, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    const out = createWriteStream(path);
    let written = 0;
    const pump = () => {
      while (written < bytes) {
        const line = `${randomBytes(57).toString('base64')}\n`;
        written += line.length;
        if (!out.write(line)) return void out.once('drain', pump);
      }
      out.end(resolve);
    };
    pump();
  });
}

async function main(): Promise<void> {
  const { sshd, agent, agentPid } = await setUp();
  const targets = [sshd, agent];

  // A p99 over 1,000 samples is the 10th-worst keystroke, at the mercy of the
  // scheduler on a shared machine: the repetitions' samples are pooled (p99 of
  // 5,000 keystrokes per server), and each repetition's own ratio shows the spread.
  const REPS = 5;
  const pooled = new Map<string, number[]>([
    [sshd.name, []],
    [agent.name, []],
  ]);
  const stats = (samples: number[]) => {
    const s = [...samples].sort((a, b) => a - b);
    return { p50: percentile(s, 50), p99: percentile(s, 99) };
  };
  const repRatios: string[] = [];
  // A warm-up repetition, not counted: the agent is a long-running JIT-compiled
  // process, and its first thousand keystrokes still run code V8 has not optimized
  // (the repetitions' ratios fall from ≈1.3 to ≈0.7 without it), while sshd and tmux
  // are compiled ahead of time. Users meet the agent warm, minutes into a session.
  console.log('echo latency, warm-up (1,000 keystrokes, not counted)…');
  await echoLatency(targets, 'echo-warm-up');
  for (let r = 0; r < REPS; r++) {
    console.log(`echo latency, repetition ${r + 1}/${REPS} (1,000 keystrokes each)…`);
    const echo = await echoLatency(targets, `echo${r}`);
    for (const [name, samples] of echo) pooled.get(name)!.push(...samples);
    repRatios.push((stats(echo.get(agent.name)!).p99 / stats(echo.get(sshd.name)!).p99).toFixed(2));
  }
  const echoTmux = stats(pooled.get(sshd.name)!);
  const echoAgent = stats(pooled.get(agent.name)!);
  if (process.env.BENCH_AGENT_ONLY === 'echo') {
    // A quick look while tuning; results are only recorded by a full run.
    console.log({
      tmux: echoTmux,
      agent: echoAgent,
      ratio: echoAgent.p99 / echoTmux.p99,
      repRatios,
    });
    return;
  }

  // Written only now: the kernel's writeback of 64 MiB would disturb the echo timings.
  const bulk = join(dir, 'bulk.txt');
  const BULK = 64 * 1024 * 1024;
  await textFile(bulk, BULK);
  const fill = join(dir, 'fill.txt');
  await textFile(fill, 2 * 1024 * 1024);
  console.log('throughput (cat 64 MiB)…');
  const tputTmux = await throughput(sshd, bulk, BULK);
  const tputAgent = await throughput(agent, bulk, BULK);

  console.log('re-attach with a full scrollback…');
  const reTmuxAll = await reattach(sshd, fill);
  const reAgentAll = await reattach(agent, fill);
  const reTmux = median(reTmuxAll.attach);
  const reAgent = median(reAgentAll.attach);
  const reconnectTmux = median(reTmuxAll.reconnect);
  const reconnectAgent = median(reAgentAll.reconnect);

  console.log('memory at 100 idle sessions…');
  const tmuxPid = () =>
    Number(
      execFileSync('sh', ['-c', `${TMUX} display-message -p '#{pid}'`])
        .toString()
        .trim(),
    );
  const memTmux = await idleMemory(sshd, tmuxPid, 100);
  const memAgent = await idleMemory(agent, () => agentPid, 100);
  const perSessionKiB = (m: { before: number; after: number }) => (m.after - m.before) / 100;
  const ratio = (a: number, b: number) => (Math.abs(b) < 1 ? '—' : (a / b).toFixed(2));

  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const rows = [
    [
      `keystroke echo p50 (${REPS} × 1,000 keystrokes pooled)`,
      ms(echoTmux.p50),
      ms(echoAgent.p50),
      (echoAgent.p50 / echoTmux.p50).toFixed(2),
      '—',
    ],
    [
      `keystroke echo p99 (${REPS} × 1,000 keystrokes pooled; each repetition's ratio: ${repRatios.join(', ')})`,
      ms(echoTmux.p99),
      ms(echoAgent.p99),
      (echoAgent.p99 / echoTmux.p99).toFixed(2),
      '≤ 1.0×',
      echoAgent.p99 <= echoTmux.p99,
    ],
    [
      'cat 64 MiB through a pty',
      `${tputTmux.toFixed(1)} MiB/s`,
      `${tputAgent.toFixed(1)} MiB/s`,
      (tputAgent / tputTmux).toFixed(2),
      '≥ 0.8×',
      tputAgent >= 0.8 * tputTmux,
    ],
    [
      're-attach, 1 MiB scrollback: attach + replay on an open connection (median of 10)',
      ms(reTmux),
      ms(reAgent),
      (reAgent / reTmux).toFixed(2),
      '< 50 ms',
      reAgent < 50,
    ],
    [
      're-attach incl. a fresh SSH connection (handshake + auth + attach + replay)',
      ms(reconnectTmux),
      ms(reconnectAgent),
      (reconnectAgent / reconnectTmux).toFixed(2),
      '(< 50 ms)',
      reconnectAgent < 50,
    ],
    [
      'server RSS at 100 idle sessions ÷ 100 (upper bound, includes the base process)',
      `${(memTmux.after / 100).toFixed(0)} KiB`,
      `${(memAgent.after / 100).toFixed(0)} KiB`,
      ratio(memAgent.after, memTmux.after),
      '≤ 3 MiB',
      memAgent.after / 100 <= 3 * 1024,
    ],
    [
      'RSS growth per idle session (server process; 100 sessions)',
      `${perSessionKiB(memTmux).toFixed(0)} KiB`,
      `${perSessionKiB(memAgent).toFixed(0)} KiB`,
      ratio(perSessionKiB(memAgent), perSessionKiB(memTmux)),
      '≤ 3 MiB',
      perSessionKiB(memAgent) <= 3 * 1024,
    ],
  ];
  const table = [
    '| measure | sshd + tmux (anchor) | vm-agent | ratio | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.slice(0, 5).join(' | ')} | ${r[5] === undefined ? '' : r[5] ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
  console.log(table);
  writeSection(
    'agent',
    `\`npx tsx bench/agent/run.ts\`: OpenSSH ${execFileSync('sh', ['-c', 'ssh -V 2>&1']).toString().trim()} sshd + ${execFileSync('tmux', ['-V']).toString().trim()} (default config, history-limit 100000) against vm-agent (\`vm-agent/dist/main.js\`), both on 127.0.0.1, one ssh2 client for both. Echo: a program (\`cat\` in raw mode) echoes each key; after a warm-up repetition (not counted), 5 repetitions are pooled, each 10 alternating rounds of 100 keystrokes per server in fresh sessions. Throughput: \`cat\` of 64 MiB of text in the terminal until a marker after it arrives (tmux renders what it shows, the agent forwards every byte). Re-attach: after 2 MiB was printed, attach again and time until the last line arrives (tmux redraws one screen; the agent replays its whole 1 MiB ring), once on an open connection and once including a fresh SSH handshake (the ssh2 client's JS key exchange dominates that). Memory: RSS growth of the tmux server / the agent process for 100 detached bash sessions (the shells are separate processes in both); GC makes the agent's number noisy, near zero means the sessions are small next to the heap's slack.\n\n${table}\n`,
  );
}

async function cleanup(): Promise<void> {
  try {
    execFileSync('sh', ['-c', `${TMUX} kill-server 2>/dev/null || true`]);
  } catch {
    // no server
  }
  for (const c of children) c.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}

// Exits explicitly: an SSH connection a failed step left open would otherwise keep it running.
main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
