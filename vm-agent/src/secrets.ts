import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isProjectId } from './config.js';
import { log } from './log.js';
import { HttpStatusError, MetadataClient, sleep } from './metadata.js';

/** The filesystem type holding `dir`, from the longest matching mount point. */
async function filesystemOf(dir: string): Promise<string | null> {
  try {
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' '));
    let best: { point: string; type: string } | null = null;
    for (const [, point, type] of mounts) {
      if (!point || !type) continue;
      const covers = dir === point || dir.startsWith(point.endsWith(sep) ? point : point + sep);
      if (covers && (!best || point.length > best.point.length)) best = { point, type };
    }
    return best?.type ?? null;
  } catch {
    return null;
  }
}

const inMemory = (fsType: string | null) => fsType === 'tmpfs' || fsType === 'ramfs';

/**
 * Checks the secrets directory without reading any secret: sessions only get
 * its path, so the agent reports how many files it holds and whether it is
 * memory-backed (a secret on a real disk would outlive the VM).
 */
export async function checkSecretsDir(dir: string): Promise<void> {
  const files = await readdir(dir).catch(() => null);
  const fsType = await filesystemOf(dir);
  log(files && inMemory(fsType) ? 'INFO' : 'WARNING', 'secrets directory', {
    dir,
    files: files?.length ?? null,
    filesystem: fsType,
    problem: !files ? 'missing or unreadable' : inMemory(fsType) ? undefined : 'not a tmpfs',
  });
}

/** A Secret Manager secret id. */
export const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

export interface FetchSecretsOptions {
  /** Where the files go; must be (or resolve to) a directory on a tmpfs or ramfs. */
  dir: string;
  names: string[];
  /** null: ask the metadata server. */
  project: string | null;
  /** Secret Manager REST endpoint, e.g. `https://secretmanager.googleapis.com`. */
  endpoint: string;
  metadataHost: string;
  /** Aborts the fetch (the agent is closing). */
  signal: AbortSignal;
  /** Tries per secret for 5xx, 429, 401 and network errors. */
  attempts?: number;
  /** First retry delay; doubled each time. */
  backoffMs?: number;
}

export interface SecretFailure {
  name: string;
  reason: string;
  status?: number;
}

export interface FetchSecretsResult {
  written: string[];
  failed: SecretFailure[];
}

type Attempt = { ok: true; data: Buffer } | (SecretFailure & { ok: false; retry: boolean });

/** What to look at for an HTTP status of `versions/latest:access`. */
function hintFor(status: number, name: string, project: string): string | undefined {
  if (status === 403)
    return `that the VM's service account has roles/secretmanager.secretAccessor on secret ${name} in project ${project}, and the VM the cloud-platform scope`;
  if (status === 404) return `that secret ${name} exists in project ${project} and has a version`;
  if (status === 400) return `that the latest version of secret ${name} is enabled`;
  if (status === 401) return 'the access token the metadata server hands out';
  return undefined;
}

const retryable = (status: number) =>
  status === 401 || status === 408 || status === 429 || status >= 500;

/** An error's own message, with the low-level code of a network failure. */
function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  return e.cause?.code ? `${e.message} (${e.cause.code})` : e.message;
}

/**
 * Copies the named Secret Manager secrets (their latest version) into `dir`,
 * one file per secret, mode 0600, each written to a temporary file in the same
 * directory and renamed into place. Nothing is written unless `dir` is on a
 * tmpfs/ramfs. Never throws; never logs a value: logs carry names, HTTP
 * statuses and our own messages only. Ends with one summary log line.
 */
export async function fetchSecrets(o: FetchSecretsOptions): Promise<FetchSecretsResult> {
  const failed: SecretFailure[] = [];
  const written: string[] = [];
  const summary = (extra: Record<string, unknown> = {}): FetchSecretsResult => {
    log(failed.length > 0 ? 'WARNING' : 'INFO', 'workspace secrets', {
      dir: o.dir,
      written,
      failed,
      ...extra,
    });
    return { written, failed };
  };
  const failAll = (names: string[], reason: string) => {
    for (const name of names) failed.push({ name, reason });
  };

  const valid: string[] = [];
  for (const name of new Set(o.names)) {
    if (SECRET_ID.test(name)) valid.push(name);
    else {
      // Names are not secret; JSON escapes anything odd, and a long one is cut.
      const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
      log('WARNING', 'skipping an invalid secret name', {
        secret: shown,
        problem: 'a Secret Manager secret id is 1-255 letters, digits, _ and -',
      });
      failed.push({ name: shown, reason: 'invalid secret id' });
    }
  }
  if (valid.length === 0) return summary();

  // The real directory: a symlink from a tmpfs to a disk must not pass the check.
  const dir = await realpath(o.dir).catch(() => null);
  const filesystem = dir ? await filesystemOf(dir) : null;
  if (!dir || !inMemory(filesystem)) {
    const problem = dir ? 'not a tmpfs or ramfs' : 'missing or unreadable';
    log('WARNING', `not fetching secrets into ${o.dir}: ${problem}`, {
      dir: o.dir,
      real_dir: dir ?? undefined,
      filesystem,
      problem,
      why: 'a secret must never be written to a disk',
    });
    failAll(valid, `secrets directory ${problem}`);
    return summary({ filesystem });
  }

  const metadata = new MetadataClient(o.metadataHost, o.signal);
  const attempts = o.attempts ?? 4;
  const firstDelayMs = o.backoffMs ?? 500;
  /** Waits before try `attempt + 1`: the first delay, doubled each time, at most 8 s. */
  const backoff = (attempt: number) =>
    sleep(Math.min(firstDelayMs * 2 ** (attempt - 1), 8000), o.signal);

  let project = o.project;
  for (let attempt = 1; !project && attempt <= attempts && !o.signal.aborted; attempt++) {
    try {
      const answer = await metadata.projectId();
      if (isProjectId(answer)) project = answer;
      else {
        log('ERROR', 'the metadata server answered project/project-id with no project id');
        break;
      }
    } catch (err) {
      log('WARNING', 'metadata project/project-id failed', { attempt, error: errorText(err) });
      if (attempt < attempts) await backoff(attempt);
    }
  }
  if (!project) {
    failAll(valid, 'project unknown: set GOOGLE_CLOUD_PROJECT or check the metadata server');
    return summary();
  }
  const projectId = project;

  // Both path segments are validated (isProjectId, SECRET_ID): nothing to escape.
  const attempt = async (name: string): Promise<Attempt> => {
    let token: string;
    try {
      token = await metadata.serviceAccountToken();
    } catch (err) {
      return {
        ok: false,
        name,
        reason: `metadata access token: ${errorText(err)}`,
        status: err instanceof HttpStatusError ? err.status : undefined,
        retry: true,
      };
    }
    const url = `${o.endpoint}/v1/projects/${projectId}/secrets/${name}/versions/latest:access`;
    let text: string;
    try {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.any([o.signal, AbortSignal.timeout(15_000)]),
      });
      if (!res.ok) {
        await res.body?.cancel();
        if (res.status === 401) metadata.dropServiceAccountToken();
        const hint = hintFor(res.status, name, projectId);
        return {
          ok: false,
          name,
          status: res.status,
          reason: `Secret Manager answered HTTP ${res.status}${hint ? `; check ${hint}` : ''}`,
          retry: retryable(res.status),
        };
      }
      text = await res.text();
    } catch (err) {
      return { ok: false, name, reason: `network: ${errorText(err)}`, retry: true };
    }
    // Parse errors are replaced by our own words: the parser's message quotes the text.
    let data: unknown;
    try {
      data = (JSON.parse(text) as { payload?: { data?: unknown } } | null)?.payload?.data;
    } catch {
      data = undefined;
    }
    if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data))
      return {
        ok: false,
        name,
        reason: 'Secret Manager answer has no base64 payload.data',
        retry: false,
      };
    return { ok: true, data: Buffer.from(data, 'base64') };
  };

  const fetchOne = async (name: string): Promise<void> => {
    let result: Attempt | null = null;
    for (let n = 1; n <= attempts && !o.signal.aborted; n++) {
      result = await attempt(name);
      if (result.ok || !result.retry || n === attempts || o.signal.aborted) break;
      log('WARNING', `secret ${name}: attempt ${n} failed, retrying`, {
        secret: name,
        attempt: n,
        status: result.status,
        error: result.reason,
      });
      await backoff(n);
    }
    if (!result || o.signal.aborted) {
      failed.push({ name, reason: 'agent stopping' });
      return;
    }
    if (!result.ok) {
      const { reason, status } = result;
      log('ERROR', `secret ${name} not fetched: ${reason}`, { secret: name, status, reason });
      failed.push({ name, reason, status });
      return;
    }
    try {
      await writeAtomically(dir, name, result.data);
      written.push(name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      log('ERROR', `secret ${name} not written: ${code}`, { secret: name, dir: o.dir });
      failed.push({ name, reason: `write failed: ${code}` });
    } finally {
      result.data.fill(0);
    }
  };

  // A few at a time: the list holds at most a hundred names.
  const queue = [...valid];
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) await fetchOne(name);
    }),
  );
  written.sort((a, b) => valid.indexOf(a) - valid.indexOf(b));
  return summary({ project: projectId, filesystem });
}

/**
 * Writes `dir/name` through a fresh temporary file in `dir` (created
 * exclusively with mode 0600, so by this process's user, and never through a
 * symlink), then renames it over the old file: readers see the old or the new
 * bytes, never a part.
 */
async function writeAtomically(dir: string, name: string, data: Buffer): Promise<void> {
  // Secret ids hold no dot, so the temporary names never meet a secret's.
  const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  try {
    try {
      await file.writeFile(data);
      await file.chmod(0o600);
    } finally {
      await file.close();
    }
    await rename(temp, join(dir, name));
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}
