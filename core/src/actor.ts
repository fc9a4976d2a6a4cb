/**
 * Who or what changes a workspace's state. Every entry point of a change
 * (a transition, a connection, an extension, a reconciliation) takes the one
 * that asked for it; the agent's reports (`agent-reports.ts`) are the agent's.
 */
export type Actor =
  /** A signed-in caller: the owner, or an admin acting on anyone's workspace. */
  | { kind: 'user'; sub: string; email: string; admin: boolean; device_id?: string }
  /** The workspace's own vm-agent: ready, activity. */
  | { kind: 'agent' }
  /** A rule of the cleanup sweep. */
  | { kind: 'sweep'; rule: 'idle' | 'retention' | 'suspended-limit' }
  /**
   * Reconciliation with what Compute Engine reports: on `GET …/status`, on an
   * audit-log event (`event`: its method), in the sweep's repair of stuck
   * transitions, or when a local hub starts again.
   */
  | {
      kind: 'reconcile';
      trigger: 'status-read' | 'audit-log' | 'sweep' | 'hub-start';
      event?: string;
    };
