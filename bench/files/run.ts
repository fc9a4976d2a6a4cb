/**
 * File upload through the hub (`PUT /workspaces/:id/files/content` in 8 MiB chunks, as the files
 * panel sends them; the hub writes over its SSH connection into the agent's SFTP) against the
 * anchor: OpenSSH's `sftp` uploading the same file to the same agent, in the same run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FILE_CHUNK_BYTES } from '@workspace-hub/api';
import { freePort, startFirestoreEmulator } from '@workspace-hub/testing';
import ssh2 from 'ssh2';
import { percentile, writeSection } from '../lib/results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EMAIL = 'bench@example.com';
const AUTH = { authorization: `Bearer dev:${EMAIL}` };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 64);
const TARGET = 0.8;

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function waitFor(url: string, hub: ChildProcess, id: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    if (hub.exitCode !== null) throw new Error('the hub exited');
    const r = await fetch(`${url}/workspaces/${id}/status`, { headers: AUTH }).catch(() => null);
    const body = r?.ok
      ? ((await r.json()) as { workspace: { status: string; agent?: { port: number } } })
      : null;
    if (body?.workspace.status === 'READY') return body.workspace.agent!.port;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`workspace ${id} never became READY`);
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

/** The panel's upload: consecutive chunks with Content-Range and one upload id. */
async function uploadThroughHub(
  url: string,
  id: string,
  path: string,
  data: Uint8Array<ArrayBuffer>,
) {
  const uploadId = randomBytes(9).toString('base64url');
  for (let first = 0; first < data.length; first += FILE_CHUNK_BYTES) {
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
  }
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
  const emulator = await startFirestoreEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'wsh-bench-files-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const hub = spawn(process.execPath, [join(ROOT, 'hub/dist/main.js')], {
    env: {
      ...process.env,
      HUB_DRIVER: 'local',
      HUB_AUTH: 'dev',
      HUB_URL: url,
      PORT: String(port),
      HUB_DATA_DIR: join(dir, 'hub'),
      GOOGLE_CLOUD_PROJECT: 'bench-files',
      FIRESTORE_EMULATOR_HOST: emulator.host,
      METADATA_SERVER_DETECTION: 'none',
    },
    stdio: 'ignore',
  });
  try {
    await waitForHub(url, hub);
    const created = await fetch(`${url}/workspaces`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: '{}',
    });
    const ws = (await created.json()) as { id: string };
    const agentPort = await waitFor(url, hub, ws.id);
    const home = join(dir, 'hub', 'workspaces', ws.id, 'home');
    const hostKey = (
      (await (await fetch(`${url}/workspaces/${ws.id}`, { headers: AUTH })).json()) as {
        agent: { host_public_key: string };
      }
    ).agent.host_public_key;

    // OpenSSH's sftp logs in with a device key of the same user, the host key pinned.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    const put = await fetch(`${url}/me/keys/bench`, {
      method: 'PUT',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ public_key: readFileSync(join(dir, 'id.pub'), 'utf8') }),
    });
    if (!put.ok) throw new Error(`key: ${put.status}`);
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${agentPort} ${hostKey}\n`);
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
    await uploadThroughHub(url, ws.id, 'via-hub.bin', data);
    await timedSftp(sshArgs, batch);
    await js.put(local, 'via-ssh2.bin');
    const hubMs: number[] = [];
    const sftpMs: number[] = [];
    const ssh2Ms: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      await uploadThroughHub(url, ws.id, 'via-hub.bin', data);
      hubMs.push(performance.now() - t0);
      sftpMs.push(await timedSftp(sshArgs, batch));
      t0 = performance.now();
      await js.put(local, 'via-ssh2.bin');
      ssh2Ms.push(performance.now() - t0);
    }
    js.end();
    for (const name of ['via-hub.bin', 'via-sftp.bin', 'via-ssh2.bin'])
      if (sha256(readFileSync(join(home, name))) !== want)
        throw new Error(`${name}: checksum differs`);

    const mibps = (ms: number) => FILE_MIB / (ms / 1000);
    const hubRate = mibps(median(hubMs));
    const sftpRate = mibps(median(sftpMs));
    const ratio = hubRate / sftpRate;
    const ssh2Rate = mibps(median(ssh2Ms));
    const loadAfter = loadavg();
    const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    const body = [
      `Load average (1, 5, 15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(', ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(', ')}.`,
      '',
      `A local hub (\`node hub/dist/main.js\`, HUB_DRIVER=local, HUB_AUTH=dev, Firestore emulator) and one READY workspace's vm-agent on this machine. ${FILE_MIB} MiB of random bytes uploaded ${ROUNDS} times each way, alternated, after one warm-up each; medians. Hub: \`PUT …/files/content\` in ${FILE_CHUNK_BYTES / 1024 / 1024} MiB chunks with Content-Range (what the files panel sends), through the hub's SSH connection into the agent's SFTP. Anchor: OpenSSH \`sftp -b\` (\`put\`, its own connection and login each time) to the same agent. Second reference: ssh2's \`fastPut\` (64 × 32 KiB in flight) on one kept connection, the client library the hub itself speaks SSH with. All three files' SHA-256 checked in the home afterwards.`,
      '',
      '| measure | hub | sftp (anchor) | ratio | target | met |',
      '|---|---|---|---|---|---|',
      `| upload throughput, MiB/s (times, ms — hub: ${f(hubMs)}; sftp: ${f(sftpMs)}) | ${hubRate.toFixed(1)} | ${sftpRate.toFixed(1)} | **${ratio.toFixed(2)}** | ≥ ${TARGET} | ${ratio >= TARGET ? 'yes' : 'no'} |`,
      `| the hub against ssh2's own \`fastPut\` (the same JavaScript SSH client, no HTTP; times: ${f(ssh2Ms)}), MiB/s | ${hubRate.toFixed(1)} | ${ssh2Rate.toFixed(1)} | **${(hubRate / ssh2Rate).toFixed(2)}** | | |`,
      `| ssh2 \`fastPut\` against OpenSSH \`sftp\`: what the JavaScript SSH client costs | ${ssh2Rate.toFixed(1)} | ${sftpRate.toFixed(1)} | **${(ssh2Rate / sftpRate).toFixed(2)}** | | |`,
    ].join('\n');
    writeSection('files', body);
    process.stdout.write(`${body}\n`);
  } finally {
    hub.kill('SIGTERM');
    await new Promise((r) => (hub.exitCode !== null ? r(null) : hub.once('exit', r)));
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
