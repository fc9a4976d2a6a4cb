import { mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const CURRENT = 'current';
const PREFIX = 'export-';

/**
 * Exports of one project's emulator data kept in `dir`, so a restarted
 * emulator starts from the last one (`--import-data`). Each export goes to a
 * fresh folder and only a complete one becomes `current` (a symlink replaced by
 * rename, which is atomic): a crash mid-export leaves the previous export in
 * place, and the unfinished folder is removed at the next start.
 */
export class EmulatorSnapshots {
  private saving: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly projectId: string,
  ) {}

  /** The metadata file of the current export, for `--import-data`; `null` when there is none. */
  latest(): string | null {
    let target: string;
    try {
      target = readlinkSync(join(this.dir, CURRENT));
    } catch {
      return null;
    }
    const exportDir = join(this.dir, target);
    // The emulator writes firestore_export_<n>/firestore_export_<n>.overall_export_metadata.
    for (const sub of readdirSync(exportDir, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      const meta = readdirSync(join(exportDir, sub.name)).find((f) =>
        f.endsWith('.overall_export_metadata'),
      );
      if (meta) return join(exportDir, sub.name, meta);
    }
    return null;
  }

  /** Removes export folders that `current` does not point at (left by a crash). */
  prune(): void {
    let keep: string | null = null;
    try {
      keep = readlinkSync(join(this.dir, CURRENT));
    } catch {}
    let entries: string[] = [];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of entries)
      if ((name.startsWith(PREFIX) || name === `${CURRENT}.new`) && name !== keep)
        rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Exports the emulator's data at `host` and makes it current. One at a time. */
  save(host: string): Promise<void> {
    const run = async () => {
      await this.saving?.catch(() => {});
      const name = `${PREFIX}${Date.now()}`;
      const target = join(this.dir, name);
      mkdirSync(target, { recursive: true });
      const res = await fetch(`http://${host}/emulator/v1/projects/${this.projectId}:export`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          database: `projects/${this.projectId}/databases/(default)`,
          export_directory: target,
        }),
      });
      if (!res.ok) {
        rmSync(target, { recursive: true, force: true });
        throw new Error(`emulator export failed: ${res.status} ${await res.text()}`);
      }
      const link = join(this.dir, `${CURRENT}.new`);
      rmSync(link, { force: true });
      symlinkSync(name, link);
      renameSync(link, join(this.dir, CURRENT));
      this.prune();
    };
    const p = run();
    this.saving = p;
    return p;
  }
}
