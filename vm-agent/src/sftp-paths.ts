import { readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';

export class OutsideRootError extends Error {
  constructor(readonly requested: string) {
    super(`outside the workspace home: ${requested}`);
  }
}

/**
 * Maps SFTP paths onto the workspace home. Relative paths start at the home,
 * absolute ones must already lie inside it; every existing component is
 * resolved with realpath, so `..` and symlinks cannot lead out.
 */
export class RootedPaths {
  private constructor(readonly root: string) {}

  static async create(root: string): Promise<RootedPaths> {
    return new RootedPaths(await realpath(root));
  }

  inside(p: string): boolean {
    const rel = relative(this.root, p);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  }

  private absolute(requested: string): string {
    const raw = requested === '' ? '.' : requested;
    return normalize(isAbsolute(raw) ? raw : join(this.root, raw));
  }

  /** Resolves a path whose last component is followed (stat, open, opendir). */
  async resolve(requested: string): Promise<string> {
    const abs = this.absolute(requested);
    if (!this.inside(abs)) throw new OutsideRootError(requested);
    const real = await this.realpathAllowingMissing(abs);
    if (!this.inside(real)) throw new OutsideRootError(requested);
    return real;
  }

  /** Resolves the parent only (lstat, readlink, remove, rename, symlink: the name itself is acted on). */
  async resolveEntry(requested: string): Promise<string> {
    const abs = this.absolute(requested);
    if (!this.inside(abs)) throw new OutsideRootError(requested);
    if (abs === this.root) return abs;
    const parent = await this.realpathAllowingMissing(dirname(abs));
    const full = join(parent, basename(abs));
    if (!this.inside(parent) || !this.inside(full)) throw new OutsideRootError(requested);
    return full;
  }

  /** realpath of the longest existing prefix, plus the missing rest (for files about to be created). */
  private async realpathAllowingMissing(abs: string, depth = 0): Promise<string> {
    try {
      return await realpath(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || depth > 40) throw err;
      // A dangling symlink would be followed on create: resolve where it points.
      const target = await readlink(abs).catch(() => null);
      if (target !== null)
        return this.realpathAllowingMissing(resolve(dirname(abs), target), depth + 1);
      const parent = dirname(abs);
      if (parent === abs) throw err;
      return join(await this.realpathAllowingMissing(parent, depth + 1), basename(abs));
    }
  }
}
