/**
 * File upload through the hub (`PUT /workspaces/:id/files/content` in 8 MiB chunks, as the files
 * panel sends them; the hub writes over its SSH connection into the agent's SFTP) against the
 * anchor: OpenSSH's `sftp` uploading the same file to the same agent, in the same run.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_CHUNK_BYTES } from '@workspace-hub/api';
import ssh2 from 'ssh2';
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
) {
  const uploadId = randomBytes(9).toString('base64url');
  const put = async (first: number) => {
    const last = Math.min(first + FILE_CHUNK_BYTES, data.length) - 1;
    const res = await fetch(
      `${url}/workspaces/${id}/files/content?path=${path}&upload_id=${uploadId}`,
      {
        method: 'PUT',
        headers: { ...AUTH, 'content-range': `bytes ${first}-${last}/${data.length}` },
        body: data.subarray(first, last + 1),
      },
    );
    if (res.status !== 200) throw new Error(`upload chunk: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
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
 * JavaScript SSH stack the hub uses, without HTTP or the hub. The hub cannot beat it.
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

function timedSftp(args: string[], batch: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('sftp', [...args, '-b', batch, '127.0.0.1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`sftp: ${code} ${stderr}`)),
    );
  });
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
    // A warm-up of each (the hub's pooled connection, page cache), then alternated rounds.
    await uploadThroughHub(url, ws.id, 'via-hub.bin', data, PARALLEL_CHUNKS);
    await uploadThroughHub(url, ws.id, 'via-hub-serial.bin', data, 1);
    await timedSftp(sshArgs, batch);
    await js.put(local, 'via-ssh2.bin');
    const hubMs: number[] = [];
    const serialMs: number[] = [];
    const sftpMs: number[] = [];
    const ssh2Ms: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      await uploadThroughHub(url, ws.id, 'via-hub.bin', data, PARALLEL_CHUNKS);
      hubMs.push(performance.now() - t0);
      t0 = performance.now();
      await uploadThroughHub(url, ws.id, 'via-hub-serial.bin', data, 1);
      serialMs.push(performance.now() - t0);
      sftpMs.push(await timedSftp(sshArgs, batch));
      t0 = performance.now();
      await js.put(local, 'via-ssh2.bin');
      ssh2Ms.push(performance.now() - t0);
    }
    js.end();
    for (const name of ['via-hub.bin', 'via-hub-serial.bin', 'via-sftp.bin', 'via-ssh2.bin'])
      if (sha256(await downloadThroughHub(url, ws.id, name)) !== want)
        throw new Error(`${name}: checksum differs`);

    const mibps = (ms: number) => FILE_MIB / (ms / 1000);
    const hubRate = mibps(median(hubMs));
    const sftpRate = mibps(median(sftpMs));
    const ratio = hubRate / sftpRate;
    const ssh2Rate = mibps(median(ssh2Ms));
    const serialRate = mibps(median(serialMs));
    const loadAfter = loadavg();
    const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    const body = [
      `Load average (1, 5, 15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(', ')}.`,
      '',
      `A local hub (\`npm start\`'s launcher \`local/dist/main.js\`: local driver, dev identities, Firestore emulator) and one READY workspace's vm-agent on this machine. ${FILE_MIB} MiB of random bytes uploaded ${ROUNDS} times each way, alternated, after one warm-up each; medians. Hub: \`PUT …/files/content\` in ${FILE_CHUNK_BYTES / 1024 / 1024} MiB chunks with Content-Range, ${PARALLEL_CHUNKS} at once and the completing one after the others answered (what the files panel sends), through the hub's SSH connection into the agent's SFTP. Anchor: OpenSSH \`sftp -b\` (\`put\`, its own connection and login each time) to the same agent. Second reference: ssh2's \`fastPut\` (64 × 32 KiB in flight) on one kept connection, the client library the hub itself speaks SSH with. Also the panel's previous upload: the same chunks strictly one after another. All four copies' SHA-256 checked afterwards by downloading them through the hub.`,
      '',
      '| measure | hub | sftp (anchor) | ratio | target | met |',
      '|---|---|---|---|---|---|',
      `| upload throughput, MiB/s (times, ms — hub: ${f(hubMs)}; sftp: ${f(sftpMs)}) | ${hubRate.toFixed(1)} | ${sftpRate.toFixed(1)} | **${ratio.toFixed(2)}** | ≥ ${TARGET} | ${ratio >= TARGET ? 'yes' : 'no'} |`,
      `| the previous upload (chunks one after another; times: ${f(serialMs)}) against OpenSSH \`sftp\`, MiB/s | ${serialRate.toFixed(1)} | ${sftpRate.toFixed(1)} | **${(serialRate / sftpRate).toFixed(2)}** | | |`,
      `| ${PARALLEL_CHUNKS} chunks at once against one after another | ${hubRate.toFixed(1)} | ${serialRate.toFixed(1)} | **${(hubRate / serialRate).toFixed(2)}** | | |`,
      `| the hub against ssh2's own \`fastPut\` (the same JavaScript SSH client, no HTTP; times: ${f(ssh2Ms)}), MiB/s | ${hubRate.toFixed(1)} | ${ssh2Rate.toFixed(1)} | **${(hubRate / ssh2Rate).toFixed(2)}** | | |`,
      `| ssh2 \`fastPut\` against OpenSSH \`sftp\`: what the JavaScript SSH client costs | ${ssh2Rate.toFixed(1)} | ${sftpRate.toFixed(1)} | **${(ssh2Rate / sftpRate).toFixed(2)}** | | |`,
    ].join('\n');
    writeSection('files', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
