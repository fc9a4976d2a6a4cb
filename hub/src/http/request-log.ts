import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from '../env.js';
import { type Logger, traceFields } from '../log.js';
import { requestHeader } from './request-header.js';

/**
 * Probe paths whose successful answers go unlogged: Cloud Run's startup and liveness probes call
 * them every few seconds and Cloud Run's own request log already records each call, so a line of
 * ours per probe is noise (and, under load, most of what `/health` costs). A failing probe is logged.
 */
const QUIET_WHEN_OK = new Set(['/health', '/ready']);

/** One structured line per request, in Cloud Logging's `httpRequest` shape. Never logs headers. */
export function requestLog(log: Logger, projectId: string): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const started = performance.now();
    const reqLog = log.with(traceFields(requestHeader(c, 'x-cloud-trace-context'), projectId));
    c.set('log', reqLog);
    await next();
    const status = c.res.status;
    if (status < 400 && QUIET_WHEN_OK.has(c.req.path)) return;
    reqLog.log(
      status >= 500 ? 'ERROR' : status >= 400 ? 'WARNING' : 'INFO',
      `${c.req.method} ${c.req.path} ${status}`,
      {
        httpRequest: {
          requestMethod: c.req.method,
          requestUrl: c.req.path,
          status,
          latency: `${((performance.now() - started) / 1000).toFixed(4)}s`,
          userAgent: requestHeader(c, 'user-agent'),
          remoteIp: requestHeader(c, 'x-forwarded-for')?.split(',')[0],
        },
      },
    );
  };
}
