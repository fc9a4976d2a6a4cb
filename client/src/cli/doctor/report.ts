import type { StepResult, StepStatus } from './step.js';

const MARK: Record<StepStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`.padStart(6);
}

/** One step as the human report prints it: status, time, name, detail, then what to check. */
export function stepLine(r: StepResult): string {
  const line = `${MARK[r.status]} ${seconds(r.ms)}  ${r.step.padEnd(11)} ${r.detail}`;
  return r.hint && r.status !== 'ok' ? `${line}\n${' '.repeat(21)}check: ${r.hint}` : line;
}

export function summaryLine(results: StepResult[]): string {
  const failed = results.filter((r) => r.status === 'fail').map((r) => r.step);
  return failed.length ? `${failed.length} failed: ${failed.join(', ')}` : 'all checks passed';
}
