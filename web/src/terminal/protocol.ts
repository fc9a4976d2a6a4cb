/**
 * The terminal protocol's message types (webterm's api/src/terminal.ts). Type-only: the page
 * must not bundle zod and every schema of the API for them.
 * TODO(dashboard): import these from @workspace-hub/api once terminal.ts lands on main.
 */
export interface TerminalSessionInfo {
  name: string;
  created_at: string;
  last_activity_at: string;
  cols: number;
  rows: number;
  clients: { device_id: string; attached_at: string }[];
}
export type TerminalClientMessage =
  | { type: 'attach'; session?: string; cols?: number; rows?: number; create?: boolean }
  | { type: 'input'; data: string }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'list' }
  | { type: 'ping'; id?: string | number };
export type TerminalServerMessage =
  | { type: 'attached'; session: string }
  | { type: 'sessions'; sessions: TerminalSessionInfo[] }
  | { type: 'exit'; session: string; code: number | null; signal: string | null }
  | { type: 'error'; code: string; message: string; status?: string; field?: string }
  | { type: 'pong'; id?: string | number };
