import type { Dir } from 'node:fs';
import { constants, type Stats } from 'node:fs';
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  opendir,
  readlink,
  rename,
  rmdir,
  stat,
  symlink,
  truncate,
  unlink,
  utimes,
} from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import ssh2, { type Attributes, type InputAttributes, type SFTPWrapper } from 'ssh2';
import { openFlags } from './sftp-open-flags.js';
import { OutsideRootError, type RootedPaths } from './sftp-paths.js';

const { STATUS_CODE } = ssh2.utils.sftp;

/** `queue`: the handle's requests run one after another (see `onHandle`). */
type Handle = { queue: Promise<void> } & (
  | { kind: 'file'; fh: FileHandle; path: string }
  | { kind: 'dir'; dir: Dir; path: string; done: boolean }
);

function toAttrs(s: Stats): Attributes {
  return {
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    atime: Math.floor(s.atimeMs / 1000),
    mtime: Math.floor(s.mtimeMs / 1000),
  };
}

function modeString(mode: number): string {
  const type =
    (mode & constants.S_IFMT) === constants.S_IFDIR
      ? 'd'
      : (mode & constants.S_IFMT) === constants.S_IFLNK
        ? 'l'
        : '-';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((ch, i) => (mode & (1 << (8 - i)) ? ch : '-'))
    .join('');
  return type + bits;
}

function longname(name: string, s: Stats): string {
  const date = s.mtime.toISOString().slice(0, 16).replace('T', ' ');
  return `${modeString(s.mode)} ${s.nlink} ${s.uid} ${s.gid} ${String(s.size).padStart(8)} ${date} ${name}`;
}

/** ssh2's SFTP channel has no exit(); its protocol object sends the same message a Channel's does. */
function sendExitStatus(sftp: SFTPWrapper, code: number): void {
  const channel = sftp as unknown as {
    _protocol?: { exitStatus(id: number, status: number): void };
    outgoing?: { id: number; state: string };
  };
  if (channel.outgoing?.state === 'open') channel._protocol?.exitStatus(channel.outgoing.id, code);
}

/** Serves one SFTP channel, confined to the workspace home. */
export function serveSftp(sftp: SFTPWrapper, paths: RootedPaths, onActivity: () => void): void {
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  const newHandle = (h: Handle) => {
    const id = nextHandle++;
    handles.set(id, h);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const handleId = (buf: Buffer) => (buf.length === 4 ? buf.readUInt32BE(0) : -1);

  const fail = (reqid: number, err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof OutsideRootError || code === 'EACCES' || code === 'EPERM')
      return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'Permission denied');
    if (code === 'ENOENT') return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    return sftp.status(reqid, STATUS_CODE.FAILURE, code ?? 'Failure');
  };
  const ok = (reqid: number) => sftp.status(reqid, STATUS_CODE.OK);
  const run = (reqid: number, work: () => Promise<void>) => {
    onActivity();
    work().catch((err) => fail(reqid, err));
  };
  /**
   * Requests on one handle run in the order they arrived, each after the
   * previous one has answered. The drafts let a server answer in any order,
   * but OpenSSH's `scp` (SFTP mode, in-place download) cuts the file at the
   * last contiguous reply, and overlapping reads and writes of one file must
   * behave as if sent one at a time anyway. Other requests stay concurrent.
   */
  const onHandle = <K extends Handle['kind']>(
    reqid: number,
    buf: Buffer,
    kind: K | null,
    work: (h: Extract<Handle, { kind: K }>) => Promise<void>,
  ) => {
    onActivity();
    const h = handles.get(handleId(buf));
    if (!h || (kind !== null && h.kind !== kind))
      return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    h.queue = h.queue
      .then(() => work(h as Extract<Handle, { kind: K }>))
      .catch((err) => fail(reqid, err));
  };

  const applyAttrs = async (path: string, attrs: InputAttributes) => {
    if (attrs.mode !== undefined) await chmod(path, Number(attrs.mode) & 0o7777);
    if (attrs.size !== undefined) await truncate(path, attrs.size);
    if (attrs.atime !== undefined && attrs.mtime !== undefined)
      await utimes(path, attrs.atime as number, attrs.mtime as number);
  };

  sftp.on('OPEN', (reqid, filename, flags, attrs) =>
    run(reqid, async () => {
      const path = await paths.resolve(filename);
      const mode = attrs?.mode !== undefined ? Number(attrs.mode) & 0o7777 : 0o644;
      const fh = await open(path, openFlags(flags), mode);
      sftp.handle(reqid, newHandle({ kind: 'file', fh, path, queue: Promise.resolve() }));
    }),
  );
  sftp.on('READ', (reqid, handle, offset, length) =>
    onHandle(reqid, handle, 'file', async (h) => {
      const buf = Buffer.allocUnsafe(Math.min(length, 256 * 1024));
      const { bytesRead } = await h.fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) return void sftp.status(reqid, STATUS_CODE.EOF);
      sftp.data(reqid, buf.subarray(0, bytesRead));
    }),
  );
  sftp.on('WRITE', (reqid, handle, offset, data) =>
    onHandle(reqid, handle, 'file', async (h) => {
      await h.fh.write(data, 0, data.length, offset);
      ok(reqid);
    }),
  );
  sftp.on('FSTAT', (reqid, handle) =>
    onHandle(reqid, handle, null, async (h) => {
      sftp.attrs(reqid, toAttrs(h.kind === 'file' ? await h.fh.stat() : await stat(h.path)));
    }),
  );
  sftp.on('FSETSTAT', (reqid, handle, attrs) =>
    onHandle(reqid, handle, null, async (h) => {
      await applyAttrs(h.path, attrs);
      ok(reqid);
    }),
  );
  sftp.on('CLOSE', (reqid, handle) => {
    onHandle(reqid, handle, null, async (h) => {
      if (h.kind === 'file') await h.fh.close();
      else await h.dir.close();
      ok(reqid);
    });
    // Requests sent before the close still run; any after it find no handle.
    handles.delete(handleId(handle));
  });
  sftp.on('OPENDIR', (reqid, path) =>
    run(reqid, async () => {
      const real = await paths.resolve(path);
      const dir = await opendir(real);
      sftp.handle(
        reqid,
        newHandle({ kind: 'dir', dir, path: real, done: false, queue: Promise.resolve() }),
      );
    }),
  );
  sftp.on('READDIR', (reqid, handle) =>
    onHandle(reqid, handle, 'dir', async (h) => {
      if (h.done) return void sftp.status(reqid, STATUS_CODE.EOF);
      const names = [];
      while (names.length < 100) {
        const entry = await h.dir.read();
        if (!entry) {
          h.done = true;
          break;
        }
        const s = await lstat(resolve(h.path, entry.name)).catch(() => null);
        if (s)
          names.push({
            filename: entry.name,
            longname: longname(entry.name, s),
            attrs: toAttrs(s),
          });
      }
      if (names.length === 0) return void sftp.status(reqid, STATUS_CODE.EOF);
      sftp.name(reqid, names);
    }),
  );
  sftp.on('STAT', (reqid, path) =>
    run(reqid, async () => {
      sftp.attrs(reqid, toAttrs(await stat(await paths.resolve(path))));
    }),
  );
  sftp.on('LSTAT', (reqid, path) =>
    run(reqid, async () => {
      sftp.attrs(reqid, toAttrs(await lstat(await paths.resolveEntry(path))));
    }),
  );
  sftp.on('SETSTAT', (reqid, path, attrs) =>
    run(reqid, async () => {
      await applyAttrs(await paths.resolve(path), attrs);
      ok(reqid);
    }),
  );
  sftp.on('REMOVE', (reqid, path) =>
    run(reqid, async () => {
      await unlink(await paths.resolveEntry(path));
      ok(reqid);
    }),
  );
  sftp.on('RMDIR', (reqid, path) =>
    run(reqid, async () => {
      const real = await paths.resolveEntry(path);
      if (real === paths.root) throw new OutsideRootError(path);
      await rmdir(real);
      ok(reqid);
    }),
  );
  sftp.on('MKDIR', (reqid, path, attrs) =>
    run(reqid, async () => {
      const mode = attrs?.mode !== undefined ? Number(attrs.mode) & 0o7777 : 0o755;
      await mkdir(await paths.resolveEntry(path), { mode });
      ok(reqid);
    }),
  );
  sftp.on('RENAME', (reqid, from, to) =>
    run(reqid, async () => {
      const src = await paths.resolveEntry(from);
      if (src === paths.root) throw new OutsideRootError(from);
      await rename(src, await paths.resolveEntry(to));
      ok(reqid);
    }),
  );
  sftp.on('REALPATH', (reqid, path) =>
    run(reqid, async () => {
      const real = await paths.resolve(path);
      const s = await stat(real).catch(() => null);
      sftp.name(reqid, [
        {
          filename: real,
          longname: s ? longname(real, s) : real,
          attrs: s ? toAttrs(s) : ({} as Attributes),
        },
      ]);
    }),
  );
  sftp.on('READLINK', (reqid, path) =>
    run(reqid, async () => {
      const target = await readlink(await paths.resolveEntry(path));
      sftp.name(reqid, [{ filename: target, longname: target, attrs: {} as Attributes }]);
    }),
  );
  // ssh2 already undoes OpenSSH's swapped argument order.
  sftp.on('SYMLINK', (reqid, linkPath, targetPath) =>
    run(reqid, async () => {
      const link = await paths.resolveEntry(linkPath);
      const target = await paths.resolve(resolve(dirname(link), targetPath));
      await symlink(relative(dirname(link), target) || '.', link);
      ok(reqid);
    }),
  );

  // The client's EOF means it is done (sftp's `bye`): close our side so it can
  // exit, with the exit status sshd relays from sftp-server (scp checks it).
  sftp.on('end', () => {
    sendExitStatus(sftp, 0);
    sftp.end();
  });
  sftp.on('close', () => {
    for (const h of handles.values()) {
      const close = h.kind === 'file' ? () => h.fh.close() : () => h.dir.close();
      void h.queue.then(close).catch(() => {});
    }
    handles.clear();
  });
}
