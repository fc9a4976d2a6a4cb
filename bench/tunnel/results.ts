import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

// Runs as a child of flock(1), so the edit happens while /tmp/bench.lock is held.
const REPLACE_SECTION = `
const fs = require('node:fs');
const [file, name] = process.argv.slice(1);
const section = fs.readFileSync(0, 'utf8').trim();
let text = '# Benchmark results\\n';
try { text = fs.readFileSync(file, 'utf8'); } catch {}
const re = new RegExp('## ' + name + '\\\\n[\\\\s\\\\S]*?(?=\\\\n## |$)');
text = re.test(text) ? text.replace(re, section) : text.trimEnd() + '\\n\\n' + section;
fs.writeFileSync(file, text.trimEnd() + '\\n');
`;

export function machineLine(): string {
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return `${when} UTC · nproc ${cpus().length} · ${cpus()[0]?.model ?? 'unknown CPU'} · Node ${process.version}`;
}

/** Replaces the `## name` section of bench/RESULTS.md, keeping the other benchmarks' sections. */
export function writeSection(name: string, body: string): void {
  execFileSync(
    'flock',
    ['/tmp/bench.lock', process.execPath, '-e', REPLACE_SECTION, RESULTS, name],
    {
      input: `## ${name}\n\n${machineLine()}\n\n${body.trim()}\n`,
    },
  );
}
