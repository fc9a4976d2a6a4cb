import type { Workspace, WorkspaceStatus } from '@workspace-hub/api';
import { clientEnv } from '../env.js';
import { HubApiError } from '../sdk/errors.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { progress, progressDone } from './output.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = Number(clientEnv().WSH_POLL_MS) || 1000;

/**
 * Polls `GET …/status` (which reconciles on read) until the workspace is in
 * `target`, showing each change on stderr; ERROR or the timeout fail.
 */
export async function waitForStatus(
  ctx: CliContext,
  id: string,
  target: WorkspaceStatus,
  timeoutSeconds: number,
): Promise<Workspace> {
  const started = Date.now();
  let last = '';
  try {
    for (;;) {
      const report = await ctx.client.workspaceStatus(id);
      const ws = report.workspace;
      const seconds = Math.round((Date.now() - started) / 1000);
      const line = `${id}: ${ws.status}${ws.status_reason ? ` (${ws.status_reason})` : ''}`;
      if (line !== last || process.stderr.isTTY) progress(`${line}  ${seconds}s`);
      last = line;
      if (ws.status === target) return ws;
      if (ws.status === 'ERROR')
        throw new CliError(`${id}: ERROR: ${ws.error?.message ?? ws.status_reason ?? 'unknown'}`);
      if (Date.now() - started > timeoutSeconds * 1000)
        throw new CliError(`${id}: still ${ws.status} after ${timeoutSeconds}s (wanted ${target})`);
      await sleep(POLL_MS);
    }
  } finally {
    progressDone();
  }
}

/** Polls until the hub no longer knows the workspace (deletion finished). */
export async function waitForGone(
  ctx: CliContext,
  id: string,
  timeoutSeconds: number,
): Promise<void> {
  const started = Date.now();
  try {
    for (;;) {
      try {
        const ws = (await ctx.client.workspaceStatus(id)).workspace;
        progress(`${id}: ${ws.status}  ${Math.round((Date.now() - started) / 1000)}s`);
      } catch (err) {
        if (err instanceof HubApiError && err.status === 404) return;
        throw err;
      }
      if (Date.now() - started > timeoutSeconds * 1000)
        throw new CliError(`${id}: not deleted after ${timeoutSeconds}s`);
      await sleep(POLL_MS);
    }
  } finally {
    progressDone();
  }
}
