/**
 * Structured logs as Cloud Logging reads them from stdout: one JSON object a
 * line with `severity`, `message`, and the request's trace when there is one.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  with(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  base: Record<string, unknown> = {},
): Logger {
  const log = (severity: Severity, message: string, fields: Record<string, unknown> = {}) =>
    write(
      JSON.stringify({ severity, message, ...base, ...fields, time: new Date().toISOString() }),
    );
  return {
    log,
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
    with: (fields) => createLogger(write, { ...base, ...fields }),
  };
}

/** Cloud Logging's trace field from `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`. */
export function traceFields(header: string | undefined, projectId: string): Record<string, string> {
  const trace = header?.split('/')[0];
  if (!trace || !/^[0-9a-f]{32}$/i.test(trace)) return {};
  return { 'logging.googleapis.com/trace': `projects/${projectId}/traces/${trace}` };
}
