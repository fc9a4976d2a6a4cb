import { Problem, type WorkspaceStatus } from '@workspace-hub/api';
import type { HttpAnswer } from './http.js';

/** A hub answer that is not 2xx, decoded from its `application/problem+json` body. */
export class HubApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly field: string | undefined;
  readonly currentStatus: WorkspaceStatus | undefined;

  constructor(problem: Problem) {
    super(problem.detail);
    this.name = 'HubApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.field = problem.field;
    this.currentStatus = problem.current_status;
  }

  /** Reads a failed response; a body that is not a problem still yields a readable error. */
  static async fromResponse(res: HttpAnswer): Promise<HubApiError> {
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const problem = Problem.safeParse(parsed);
    if (problem.success) return new HubApiError(problem.data);
    return new HubApiError({
      type: 'about:blank',
      title: res.statusText,
      status: res.status,
      detail: `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
      code: 'http_error',
    });
  }
}
