/**
 * File upload through the hub (`PUT /workspaces/:id/files/content` in 8 MiB chunks, as the files
 * panel sends them; the hub writes over its SSH connection into the agent's SFTP) against the
 * anchor: OpenSSH's `sftp` uploading the same file to the same agent, in the same run.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_CHUNK_BYTES } from '@workspace-hub/api';
import ssh2 from 'ssh2';
import { childPids, commandLine, processCpuMs } from '../lib/process-cpu.js';
import { percentile, writeSection } from '../lib/results.js';
import { startBenchHub } from '../web-terminal/local-hub.js';

const EMAIL = 'bench@example.com';
const AUTH = { authorization: `Bearer dev:${EMAIL}` };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 64);
const TARGET = 0.8;
/** Chunks in flight at once, as web/src/files/files-api.ts sends them. */
const PARALLEL_CHUNKS = 3;

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The file as the hub serves it back, for the checksum of every copy. */
async function downloadThroughHub(url: string, id: string, path: string): Promise<Uint8Array> {
  const res = await fetch(`${url}/workspaces/${id}/files/content?path=${path}`, { headers: AUTH });
  if (res.status !== 200) throw new Error(`download ${path}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A browser keeps its connections to a host open (and opens up to 6). */
const keptAlive = new http.Agent({ keepAlive: true, maxSockets: 6 });

/** One PUT with Node's own HTTP client: a few ms of CPU per chunk, as a browser elsewhere costs nothing here. */
function putWithHttp(url: string, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>) {
  return new Promise<void>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'PUT',
        agent: keptAlive,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new Error(`upload chunk: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The same PUT with Node's `fetch` (undici), whose own CPU per byte is several times the hub's. */
async function putWithFetch(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array<ArrayBuffer>,
) {
  const res = await fetch(url, { method: 'PUT', headers, body });
  if (res.status !== 200) throw new Error(`upload chunk: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * The panel's upload: chunks with Content-Range and one upload id, `parallel` at once, the one
 * completing the file after all others were answered (`parallel` 1: the panel before).
 */
async function uploadThroughHub(
  url: string,
  id: string,
  path: string,
  data: Uint8Array<ArrayBuffer>,
  parallel: number,
  send: typeof putWithHttp = putWithHttp,
) {
  const uploadId = randomBytes(9).toString('base64url');
  const put = (first: number) => {
    const last = Math.min(first + FILE_CHUNK_BYTES, data.length) - 1;
    return send(
      `${url}/workspaces/${id}/files/content?path=${path}&upload_id=${uploadId}`,
      { ...AUTH, 'content-range': `bytes ${first}-${last}/${data.length}` },
      data.subarray(first, last + 1),
    );
  };
  const lastStart = Math.floor((data.length - 1) / FILE_CHUNK_BYTES) * FILE_CHUNK_BYTES;
  let next = 0;
  const worker = async () => {
    while (next < lastStart) {
      const first = next;
      next += FILE_CHUNK_BYTES;
      await put(first);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  await put(lastStart);
}

/**
 * A second reference: ssh2's own pipelined `fastPut` over one connection kept open, i.e. the
 * JavaScript SSH stack the hub uses, as it comes (32 KiB writes), without HTTP or the hub.
 */
async function ssh2Client(port: number, privateKey: Buffer) {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) =>
    client
      .on('ready', () => resolve())
      .on('error', reject)
      .connect({ host: '127.0.0.1', port, username: EMAIL, privateKey }),
  );
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
    client.sftp((err, s) => (err ? reject(err) : resolve(s))),
  );
  return {
    put: (local: string, remote: string) =>
      new Promise<void>((resolve, reject) =>
        sftp.fastPut(local, remote, { concurrency: 64, chunkSize: 32 * 1024 }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
    end: () => client.end(),
  };
}

function timedSftp(args: string[], batch: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sftp', [...args, '-b', batch, '127.0.0.1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`sftp: ${code} ${stderr}`)),
    );
  });
}

/**
 * Wall time and CPU time of each process taking part, per round: the hub, the agent, this
 * process (the browser's `fetch`, or ssh2's client) and the children it waited for (`sftp` and
 * its `ssh`). 2 cores are shared by all of them, so CPU per upload is what decides throughput.
 */
class Measured {
  readonly wallMs: number[] = [];
  readonly cpuMs = { hub: [] as number[], agent: [] as number[], client: [] as number[] };
  constructor(
    private readonly hubPid: number,
    private readonly agentPid: number,
  ) {}

  async round(work: () => Promise<unknown>): Promise<void> {
    const before = this.snapshot();
    const t0 = performance.now();
    await work();
    this.wallMs.push(performance.now() - t0);
    const after = this.snapshot();
    this.cpuMs.hub.push(after.hub - before.hub);
    this.cpuMs.agent.push(after.agent - before.agent);
    this.cpuMs.client.push(after.client - before.client);
  }

  private snapshot() {
    const self = processCpuMs('self');
    return {
      hub: processCpuMs(this.hubPid).own,
      agent: processCpuMs(this.agentPid).own,
      client: self.own + self.children,
    };
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  // The hub as `npm start` runs it, with one READY workspace and a device key of the user.
  const bench = await startBenchHub(EMAIL);
  const dir = mkdtempSync(join(tmpdir(), 'wsh-bench-files-'));
  const { url } = bench;
  const ws = bench.workspace;
  try {
    const agentPort = ws.agent!.port!;
    // OpenSSH's sftp logs in with that device key, the host key pinned.
    writeFileSync(join(dir, 'id'), bench.deviceKey, { mode: 0o600 });
    writeFileSync(
      join(dir, 'known_hosts'),
      `[127.0.0.1]:${agentPort} ${ws.agent!.host_public_key}\n`,
    );
    const sshArgs = [
      '-F',
      '/dev/null',
      '-i',
      join(dir, 'id'),
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-P',
      String(agentPort),
    ];

    const data = new Uint8Array(randomBytes(FILE_MIB * 1024 * 1024));
    const local = join(dir, 'upload.bin');
    writeFileSync(local, data);
    const batch = join(dir, 'batch');
    writeFileSync(batch, `put ${local} via-sftp.bin\n`);
    const want = sha256(data);

    const js = await ssh2Client(agentPort, readFileSync(join(dir, 'id')));
    const viaHub = () => uploadThroughHub(url, ws.id, 'via-hub.bin', data, PARALLEL_CHUNKS);
    const viaFetch = () =>
      uploadThroughHub(url, ws.id, 'via-fetch.bin', data, PARALLEL_CHUNKS, putWithFetch);
    const viaSerial = () => uploadThroughHub(url, ws.id, 'via-hub-serial.bin', data, 1);
    const viaSftp = () => timedSftp(sshArgs, batch);
    const viaSsh2 = () => js.put(local, 'via-ssh2.bin');
    // A warm-up of each (the hub's pooled connection, page cache), then alternated rounds.
    for (const warmUp of [viaHub, viaFetch, viaSerial, viaSftp, viaSsh2]) await warmUp();
    const agentPid = childPids(bench.hubPid).find((pid) => commandLine(pid).includes('vm-agent'));
    if (!agentPid) throw new Error('the workspace agent process was not found');
    const paths = {
      hub: new Measured(bench.hubPid, agentPid),
      fetch: new Measured(bench.hubPid, agentPid),
      serial: new Measured(bench.hubPid, agentPid),
      sftp: new Measured(bench.hubPid, agentPid),
      ssh2: new Measured(bench.hubPid, agentPid),
    };
    for (let i = 0; i < ROUNDS; i++) {
      await paths.hub.round(viaHub);
      await paths.sftp.round(viaSftp);
      await paths.fetch.round(viaFetch);
      await paths.serial.round(viaSerial);
      await paths.ssh2.round(viaSsh2);
    }
    js.end();
    keptAlive.destroy();
    const copies = ['via-hub.bin', 'via-fetch.bin', 'via-hub-serial.bin', 'via-sftp.bin'];
    for (const name of [...copies, 'via-ssh2.bin'])
      if (sha256(await downloadThroughHub(url, ws.id, name)) !== want)
        throw new Error(`${name}: checksum differs`);

    const mibps = (ms: number) => FILE_MIB / (ms / 1000);
    const rate = (m: Measured) => mibps(median(m.wallMs));
    const sftpRate = rate(paths.sftp);
    const ratio = rate(paths.hub) / sftpRate;
    const loadAfter = loadavg();
    const f = (m: Measured) => m.wallMs.map((x) => x.toFixed(0)).join(', ');
    const against = (name: string, m: Measured, anchor: Measured, anchorName: string) =>
      `| ${name} against ${anchorName} (times, ms: ${f(m)}) | ${rate(m).toFixed(1)} | ${rate(anchor).toFixed(1)} | **${(rate(m) / rate(anchor)).toFixed(2)}** | | |`;
    const body = [
      `Load average (1, 5, 15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(', ')}.`,
      '',
      `A local hub (\`npm start\`'s launcher \`local/dist/main.js\`: local driver, dev identities, Firestore emulator) and one READY workspace's vm-agent on this machine. ${FILE_MIB} MiB of random bytes uploaded ${ROUNDS} times each way, alternated, after one warm-up each; medians. Hub: \`PUT …/files/content\` in ${FILE_CHUNK_BYTES / 1024 / 1024} MiB chunks with Content-Range, ${PARALLEL_CHUNKS} at once and the completing one after the others answered (what the files panel sends), through the hub's SSH connection into the agent's SFTP, sent with Node's \`http\` client on kept-alive connections (a browser runs on another machine; undici's \`fetch\` costs these 2 shared cores more CPU than the hub itself, so it has its own row). Anchor: OpenSSH \`sftp -b\` (\`put\`, its own connection and login each time) to the same agent. Second reference: ssh2's \`fastPut\` (64 × 32 KiB in flight) on one kept connection, the client library the hub itself speaks SSH with. Also the panel's previous upload: the same chunks strictly one after another. Every copy's SHA-256 checked afterwards by downloading it through the hub.`,
      '',
      '| measure, MiB/s | hub | anchor | ratio | target | met |',
      '|---|---|---|---|---|---|',
      `| upload throughput against OpenSSH \`sftp\` (times, ms — hub: ${f(paths.hub)}; sftp: ${f(paths.sftp)}) | ${rate(paths.hub).toFixed(1)} | ${sftpRate.toFixed(1)} | **${ratio.toFixed(2)}** | ≥ ${TARGET} | ${ratio >= TARGET ? 'yes' : 'no'} |`,
      against('the same upload sent with `fetch`', paths.fetch, paths.sftp, 'OpenSSH `sftp`'),
      against(
        'the previous upload, chunks one after another,',
        paths.serial,
        paths.sftp,
        'OpenSSH `sftp`',
      ),
      against(`${PARALLEL_CHUNKS} chunks at once`, paths.hub, paths.serial, 'one after another'),
      against('the hub', paths.hub, paths.ssh2, "ssh2's own `fastPut` (no HTTP)"),
      against('ssh2 `fastPut`', paths.ssh2, paths.sftp, 'OpenSSH `sftp`'),
      '',
      `CPU time per ${FILE_MIB} MiB upload, ms (median of the rounds; /proc/PID/stat, 10 ms ticks). "client": this process (the HTTP client, or ssh2's client) and, for sftp, the \`sftp\` and \`ssh\` processes it waited for.`,
      '',
      '| path | hub | agent | client | all |',
      '|---|---|---|---|---|',
      ...(
        [
          [`hub, ${PARALLEL_CHUNKS} chunks at once`, paths.hub],
          ['hub, the same sent with `fetch`', paths.fetch],
          ['hub, one chunk after another', paths.serial],
          ['OpenSSH `sftp` (anchor)', paths.sftp],
          ['ssh2 `fastPut`', paths.ssh2],
        ] as const
      ).map(([name, m]) => {
        const c = m.cpuMs;
        const all = c.hub.map((h, i) => h + c.agent[i]! + c.client[i]!);
        return `| ${name} | ${median(c.hub).toFixed(0)} | ${median(c.agent).toFixed(0)} | ${median(c.client).toFixed(0)} | ${median(all).toFixed(0)} |`;
      }),
    ].join('\n');
    writeSection('files', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
