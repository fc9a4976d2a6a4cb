/**
 * Structured logs on stdout, one JSON object a line (Cloud Logging reads
 * `severity`). Callers never pass secrets or tokens here.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export type LogSink = (line: string) => void;

let sink: LogSink = (line) => process.stdout.write(`${line}\n`);

/** Redirects logs (the programmatic API lets embedders silence or capture them). */
export function setLogSink(next: LogSink): void {
  sink = next;
}

export function log(
  severity: Severity,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  sink(JSON.stringify({ severity, message, time: new Date().toISOString(), ...fields }));
}

export function audit(kind: string, fields: Record<string, unknown>): void {
  sink(
    JSON.stringify({ severity: 'INFO', audit: kind, time: new Date().toISOString(), ...fields }),
  );
}
