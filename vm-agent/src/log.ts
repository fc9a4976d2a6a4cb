/**
 * Structured logs on stdout, one JSON object a line (Cloud Logging reads
 * `severity`). Callers never pass secrets or tokens here.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export type LogSink = (line: string) => void;

let stdoutGone = false;
let stdoutWatched = false;

/**
 * Once stdout's reader is gone (in local mode a pipe the hub reads: the hub
 * died), lines are dropped. Unwatched, the EPIPE would be an uncaught
 * exception whose handler logs, fails again and loops forever on the
 * microtask queue: no more SSH, SIGTERM never handled.
 */
function writeStdout(line: string): void {
  if (stdoutGone) return;
  if (!stdoutWatched) {
    stdoutWatched = true;
    process.stdout.on('error', () => {
      stdoutGone = true;
    });
  }
  process.stdout.write(`${line}\n`);
}

let sink: LogSink = writeStdout;

/** Redirects logs (the programmatic API lets embedders silence or capture them). */
export function setLogSink(next: LogSink): void {
  sink = next;
}

function emit(record: Record<string, unknown>): void {
  try {
    sink(JSON.stringify(record));
  } catch {
    // A failing sink must not take the agent down, nor be logged to itself.
  }
}

export function log(
  severity: Severity,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  emit({ severity, message, time: new Date().toISOString(), ...fields });
}

export function audit(kind: string, fields: Record<string, unknown>): void {
  emit({ severity: 'INFO', audit: kind, time: new Date().toISOString(), ...fields });
}
