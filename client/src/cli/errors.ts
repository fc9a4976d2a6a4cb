import { ZodError } from 'zod';
import { HubApiError } from '../sdk/errors.js';

/** A failure the user caused or can fix; printed as one line, never with a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The one line a failure is reported with, its stable code and the exit status.
 * `flagOf` names the flag the user typed for a request field: a 400 naming that
 * field then names the flag instead, keeping the hub's reason.
 */
export function reasonOf(
  err: unknown,
  flagOf: (field: string) => string | undefined = () => undefined,
): { message: string; code: string; exit: number } {
  if (err instanceof CliError) return { message: err.message, code: 'cli', exit: err.exitCode };
  if (err instanceof HubApiError) {
    const flag = err.status === 400 && err.field ? flagOf(err.field) : undefined;
    if (flag) {
      const reason = err.detail.startsWith(`${err.field}: `)
        ? err.detail.slice(`${err.field}: `.length)
        : err.detail;
      return { message: `--${flag}: ${reason}`, code: err.code, exit: 1 };
    }
    const field = err.field && !err.detail.includes(err.field) ? ` (${err.field})` : '';
    return { message: `${err.detail}${field}`, code: err.code, exit: 1 };
  }
  if (err instanceof ZodError)
    return {
      message: `unexpected answer from the hub: ${err.issues[0]?.message}`,
      code: 'bad_response',
      exit: 1,
    };
  // `code` is not always a string: an IapTunnelError's is the relay's close code.
  const e = err as { code?: unknown; message?: string };
  if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'))
    return { message: String(e.message), code: 'usage', exit: 2 };
  return { message: String(e.message ?? err).split('\n')[0]!, code: 'error', exit: 1 };
}
