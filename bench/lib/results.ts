import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

/** One line naming the machine, so numbers from different runs are never compared blindly. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)} · ${cpus().length} × ${cpu} · Node ${process.version}`;
}

/**
 * Replaces this benchmark's section of bench/RESULTS.md (`## name` up to the
 * next `## `), keeping the others. Several benchmarks write the same file.
 */
export function writeSection(name: string, body: string): void {
  let text = '';
  try {
    text = readFileSync(RESULTS, 'utf8');
  } catch {
    text =
      '# Benchmark results\n\nEach section is replaced by its benchmark’s latest run (`npx tsx bench/<name>/run.ts`).\n';
  }
  const section = `## ${name}\n\n${machineLine()}\n\n${body.trim()}\n`;
  const re = new RegExp(`## ${name}\\n[\\s\\S]*?(?=\\n## |$)`);
  // A blank line before the next section; a trailing one is trimmed below.
  text = re.test(text)
    ? text.replace(re, `${section.trimEnd()}\n`)
    : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(RESULTS, `${text.trimEnd()}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
