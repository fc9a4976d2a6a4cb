import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

// Runs under `flock` in a child so other benchmarks writing the same file wait for us.
const REPLACE = `
const fs = require('node:fs');
const [file, name, bodyFile] = process.argv.slice(1);
let text = '';
try { text = fs.readFileSync(file, 'utf8'); } catch { text = '# Benchmark results\\n'; }
const section = fs.readFileSync(bodyFile, 'utf8').trim();
const re = new RegExp('## ' + name + '\\\\n[\\\\s\\\\S]*?(?=\\\\n## |$)');
text = re.test(text) ? text.replace(re, () => section + '\\n') : text.trimEnd() + '\\n\\n' + section;
fs.writeFileSync(file, text.trimEnd() + '\\n');
`;

export function machineLine(): string {
  return `${new Date().toISOString().slice(0, 10)} · nproc ${cpus().length} · ${cpus()[0]?.model ?? 'unknown CPU'} · Node ${process.version}`;
}

/** Replaces this benchmark's `## name` section of bench/RESULTS.md, holding /tmp/bench.lock. */
export function writeResultsSection(name: string, body: string): void {
  const bodyFile = join(tmpdir(), `bench-${name}-${process.pid}.md`);
  writeFileSync(bodyFile, `## ${name}\n\n${machineLine()}\n\n${body.trim()}\n`);
  execFileSync('flock', [
    '/tmp/bench.lock',
    process.execPath,
    '-e',
    REPLACE,
    RESULTS,
    name,
    bodyFile,
  ]);
}
