import { z } from 'zod';

/**
 * The file API of a workspace's home (`/workspaces/:id/files…`), served by the hub through the
 * agent's SFTP subsystem. docs/ARCHITECTURE.md ("Files") is the prose.
 */

/**
 * Bytes of one upload request. Cloud Run refuses HTTP/1 request bodies over 32 MiB, so larger
 * files are sent as several `PUT …/files/content` with `Content-Range`; the hub's body limit on
 * that route is exactly this.
 */
export const FILE_CHUNK_BYTES = 8 * 1024 * 1024;

/** The most entries one listing returns (`truncated` says when there were more). */
export const FILE_LIST_MAX_ENTRIES = 10_000;

/**
 * The segments of a path relative to the home, or a reason it is refused: absolute paths and
 * `..` are refused here, before the agent is asked (which also refuses symlinks leading out).
 * `''` and `.` are the home itself.
 */
export function fileSegments(path: string): string[] | string {
  if (path.startsWith('/')) return 'must be relative to the home directory';
  if (path.includes('\0')) return 'must not contain NUL';
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return 'must not contain ..';
  return segments;
}

/**
 * The agent's own folder in the home: its SSH host key lives there (vm-agent/src/config.ts's
 * default), so deleting or replacing it would change the workspace's host key at the agent's
 * next start and every client would then warn of a changed host. The files API lists and reads
 * it (the same files are visible over SFTP) but changes nothing in it; over SSH it stays the
 * user's to change.
 */
export const AGENT_FOLDER = '.vm-agent';

/** Why the files API changes nothing at `path` (normalised), or undefined when it may. */
export function readOnlyReason(path: string): string | undefined {
  if (path !== AGENT_FOLDER && !path.startsWith(`${AGENT_FOLDER}/`)) return undefined;
  return `${AGENT_FOLDER} is the workspace agent's own folder (its SSH host key): changing it would change the workspace's host key, so the files API only lists and downloads it`;
}

/** A path relative to the home directory, normalised (no empty or `.` segments). */
export const FilePath = z
  .string()
  .max(4096)
  .transform((path, ctx) => {
    const segments = fileSegments(path);
    if (typeof segments === 'string') {
      ctx.addIssue({ code: 'custom', message: segments });
      return z.NEVER;
    }
    return segments.join('/');
  });

export const FilePathQuery = z.strictObject({ path: FilePath.default('') });

/** What a symlink leads to: inside the home, outside it (refused, as SFTP refuses it), or nowhere. */
export const SymlinkStatus = z.enum(['inside', 'outside', 'dangling']);

export const FileType = z.enum(['file', 'directory', 'symlink', 'other']);
export type FileType = z.infer<typeof FileType>;

export const FileEntry = z.object({
  name: z.string(),
  /** The entry itself (a symlink is `symlink`, whatever it points to). */
  type: FileType,
  size: z.number().int(),
  /** RFC 3339, whole seconds (SFTP's precision). */
  mtime: z.string(),
  /** Permission bits, e.g. 420 (0o644). */
  mode: z.number().int(),
  /** Present when the files API changes nothing at this entry (no rename, delete, upload into it): why. */
  read_only: z.string().optional(),
  /** Only for symlinks. `target_type`: what the target is, when it is inside the home. */
  symlink: z
    .object({
      target: z.string(),
      status: SymlinkStatus,
      target_type: FileType.optional(),
    })
    .optional(),
});
export type FileEntry = z.infer<typeof FileEntry>;

export const FileListing = z.object({
  /** The listed folder, normalised (`''` is the home). */
  path: z.string(),
  entries: z.array(FileEntry),
  truncated: z.boolean(),
});
export type FileListing = z.infer<typeof FileListing>;

/** A random id the client picks per file uploaded in chunks: the partial file is named after it. */
export const UploadId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'letters, digits, dash and underscore, 8 to 64');

export const UploadQuery = z.strictObject({
  path: FilePath,
  upload_id: UploadId.optional(),
});

/** `DELETE …/files/content`: abandons an upload in chunks (its partial file is removed). */
export const AbortUploadQuery = z.strictObject({ path: FilePath, upload_id: UploadId });

/** `Content-Range: bytes FIRST-LAST/TOTAL` of an upload chunk (RFC 9110 §14.4). */
export function parseContentRange(
  header: string,
): { first: number; last: number; total: number } | null {
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/.exec(header.trim());
  if (!m) return null;
  const [first, last, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (first > last || last >= total) return null;
  return { first, last, total };
}

/** The answer to each upload request: what the hub has so far, and whether the file is in place. */
export const UploadProgress = z.object({
  path: z.string(),
  /** Bytes written so far (the next chunk starts here). */
  received: z.number().int(),
  size: z.number().int(),
  complete: z.boolean(),
});
export type UploadProgress = z.infer<typeof UploadProgress>;

export const MakeFolderBody = z.strictObject({ path: FilePath });
export const RenameFileBody = z.strictObject({ from: FilePath, to: FilePath });
export const DeleteFileQuery = z.strictObject({
  path: FilePath,
  /** `true`: a folder is deleted with everything in it (symlinks are removed, never followed). */
  recursive: z.enum(['true', 'false']).default('false'),
});
