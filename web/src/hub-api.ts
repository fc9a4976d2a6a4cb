import type { Me, Workspace, WorkspaceList, WorkspaceStatusReport } from '@workspace-hub/api';
import { authorizationHeaders } from './credential.js';

/** A refusal of the hub, as its problem+json tells it: the page shows `detail`, never a stack. */
export class HubProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

async function problemOf(res: Response): Promise<HubProblem> {
  try {
    const p = (await res.json()) as { detail?: string; title?: string; code?: string };
    return new HubProblem(res.status, p.code ?? 'unknown', p.detail ?? p.title ?? res.statusText);
  } catch {
    return new HubProblem(
      res.status,
      'unknown',
      `the hub answered ${res.status} ${res.statusText}`,
    );
  }
}

export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        ...authorizationHeaders(),
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new HubProblem(0, 'connection_lost', 'the hub cannot be reached; retrying');
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** What `POST /workspaces` accepts from the page. */
export interface CreateRequest {
  name?: string;
  repo?: string;
  branch?: string;
  machine_type?: string;
  zone?: string;
  idle_timeout_minutes?: number;
}

/** `GET /config`: what a create may ask for on this hub. */
export interface HubSettings {
  auth: string;
  zones: string[];
  default_zone: string;
  machine_types: string[];
  default_machine_type: string;
  idle_timeout_minutes: number;
  max_extend_minutes: number;
}

const ws = (id: string) => `/workspaces/${encodeURIComponent(id)}`;

export const hub = {
  me: () => call<Me>('GET', '/me'),
  settings: () => call<HubSettings>('GET', '/config'),
  list: (all: boolean) =>
    call<WorkspaceList>('GET', `/workspaces?limit=100${all ? '&scope=all' : ''}`),
  get: (id: string) => call<Workspace>('GET', ws(id)),
  status: (id: string) => call<WorkspaceStatusReport>('GET', `${ws(id)}/status`),
  // One key per submitted form: a retried create returns the first workspace, never a second.
  create: (req: CreateRequest, idempotencyKey: string) =>
    call<Workspace>('POST', '/workspaces', req, { 'idempotency-key': idempotencyKey }),
  stop: (id: string) => call<Workspace>('POST', `${ws(id)}/stop`),
  start: (id: string) => call<Workspace>('POST', `${ws(id)}/start`),
  remove: (id: string) => call<Workspace>('DELETE', ws(id)),
  extend: (id: string, minutes: number) => call<Workspace>('POST', `${ws(id)}/extend`, { minutes }),
};
