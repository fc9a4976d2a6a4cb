import { z } from 'zod';
import { WorkspaceStatus } from './workspace.js';

/**
 * The browser terminal's WebSocket protocol (`GET /workspaces/:id/terminal`).
 *
 * Terminal bytes travel as binary frames (browser → hub: keystrokes; hub → browser: output),
 * so nothing is base64-encoded on the hot path. Text frames carry the JSON control messages
 * below, discriminated by `type`. docs/ARCHITECTURE.md ("Browser terminal") is the prose.
 */

/** The subprotocol both sides speak; the hub answers the upgrade with this one only. */
export const TERMINAL_SUBPROTOCOL = 'wsh.terminal.v1';

/**
 * Browsers cannot set headers on a WebSocket, so a bearer token (dev mode's `dev:<email>`)
 * travels as a second offered subprotocol `bearer.<base64url(token)>`, as Kubernetes does.
 */
export const TERMINAL_BEARER_PREFIX = 'bearer.';

/** The subprotocols a browser offers: the protocol, then its token when it has one. */
export function terminalSubprotocols(bearerToken?: string): string[] {
  if (!bearerToken) return [TERMINAL_SUBPROTOCOL];
  return [TERMINAL_SUBPROTOCOL, TERMINAL_BEARER_PREFIX + base64url(bearerToken)];
}

/** The bearer token carried in offered subprotocols, or null when none is. */
export function bearerFromSubprotocols(offered: readonly string[]): string | null {
  const carrier = offered.find((p) => p.startsWith(TERMINAL_BEARER_PREFIX));
  if (!carrier) return null;
  const encoded = carrier.slice(TERMINAL_BEARER_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
  return fromBase64url(encoded);
}

/**
 * Close codes of the hub (4000–4999 are the application's). `reconnect`: the hub ends the
 * socket before Cloud Run's request limit or when it shuts down; open a new socket and attach
 * again (the scrollback is replayed). Standard 1001 (going away) means the same. `stalled`:
 * the browser took no output for the agent's grace while others were attached to the session,
 * so the agent detached it to keep them going (the reason says so); attach again likewise.
 */
export const TERMINAL_CLOSE_CODES = {
  reconnect: 4000,
  stalled: 4001,
} as const;

/**
 * How the agent ends an attachment (`attach NAME` channel) it detached for stalling: an SSH
 * `exit-signal` (a channel request, which no window holds back, unlike data) with this signal,
 * "the output had no reader", and an error message saying why. A session's own end never
 * carries a message, so the pair tells the hub apart from a shell that died of SIGPIPE.
 */
export const STALLED_ATTACHMENT_SIGNAL = 'PIPE';

/** A session's name, as `ssh -t ws attach NAME` takes it. */
export const TerminalSessionName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore, at most 64');

const TerminalCols = z.number().int().min(1).max(1000);
const TerminalRows = z.number().int().min(1).max(1000);

// --- browser → hub (text frames; keystrokes also as binary frames) ---

/**
 * Attach this socket to a session (detaching from any previous one). `create` (default true)
 * starts the session when it does not exist; with `create: false` a missing session is
 * `session_not_found` (a reconnect to a session that should still be there).
 */
export const TerminalAttach = z.strictObject({
  type: z.literal('attach'),
  session: TerminalSessionName.default('main'),
  cols: TerminalCols.optional(),
  rows: TerminalRows.optional(),
  create: z.boolean().default(true),
});

/** Keystrokes as text (binary frames are the same thing without JSON); needs an attachment. */
export const TerminalInput = z.strictObject({
  type: z.literal('input'),
  data: z.string().max(64 * 1024),
});

export const TerminalResize = z.strictObject({
  type: z.literal('resize'),
  cols: TerminalCols,
  rows: TerminalRows,
});

/** Ask for the workspace's sessions; answered by `sessions`. */
export const TerminalList = z.strictObject({ type: z.literal('list') });

/** Application-level keepalive and round-trip probe; answered by `pong` with the same `id`. */
export const TerminalPing = z.strictObject({
  type: z.literal('ping'),
  id: z.union([z.string().max(64), z.number()]).optional(),
});

export const TerminalClientMessage = z.discriminatedUnion('type', [
  TerminalAttach,
  TerminalInput,
  TerminalResize,
  TerminalList,
  TerminalPing,
]);
export type TerminalClientMessage = z.input<typeof TerminalClientMessage>;
export type TerminalClientMessageParsed = z.output<typeof TerminalClientMessage>;

// --- hub → browser (text frames; output is binary frames) ---

/**
 * The socket is attached to `session`; the session's scrollback follows as output, so the
 * client clears its screen first (a re-attach replays what it had already shown).
 */
export const TerminalAttached = z.object({
  type: z.literal('attached'),
  session: TerminalSessionName,
});

export const TerminalSessionInfo = z.object({
  name: TerminalSessionName,
  created_at: z.string(),
  last_activity_at: z.string(),
  cols: z.number().int(),
  rows: z.number().int(),
  /** Devices attached now (`browser` for the web terminal, a `wsh` device id for SSH). */
  clients: z.array(z.object({ device_id: z.string(), attached_at: z.string() })),
});
export type TerminalSessionInfo = z.infer<typeof TerminalSessionInfo>;

export const TerminalSessions = z.object({
  type: z.literal('sessions'),
  sessions: z.array(TerminalSessionInfo),
});

/**
 * The attached session ended (its shell exited, or it was killed: `signal`). The socket
 * stays open and is detached; attaching again starts a new session of that name.
 */
export const TerminalExit = z.object({
  type: z.literal('exit'),
  session: TerminalSessionName,
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
});

export const TERMINAL_ERROR_CODES = [
  /** `attach` with `create: false` named a session the workspace does not have. */
  'session_not_found',
  /** The agent refused the hub's credential for this user (or the user lost access). */
  'permission_denied',
  /** The workspace is not READY; `status` says what it is (offer resume when SUSPENDED). */
  'workspace_not_ready',
  /** The hub's SSH connection to the agent dropped while attached; attach again. */
  'connection_lost',
  /** A frame the protocol does not allow; `field` names what was wrong. */
  'bad_message',
  /** The hub could not reach the workspace's agent (network, agent down). Retry later. */
  'agent_unreachable',
  /** Something failed in the hub itself. */
  'internal',
] as const;
export const TerminalErrorCode = z.enum(TERMINAL_ERROR_CODES);
export type TerminalErrorCode = z.infer<typeof TerminalErrorCode>;

/** An error; the socket stays open unless the hub closes it (see TERMINAL_CLOSE_CODES). */
export const TerminalError = z.object({
  type: z.literal('error'),
  code: TerminalErrorCode,
  /** For people; clients branch on `code`. */
  message: z.string(),
  /** `workspace_not_ready`: the workspace's status now. */
  status: WorkspaceStatus.optional(),
  /** `bad_message`: the field that was wrong (`type` for an unknown message). */
  field: z.string().optional(),
});

export const TerminalPong = z.object({
  type: z.literal('pong'),
  id: z.union([z.string(), z.number()]).optional(),
});

export const TerminalServerMessage = z.discriminatedUnion('type', [
  TerminalAttached,
  TerminalSessions,
  TerminalExit,
  TerminalError,
  TerminalPong,
]);
export type TerminalServerMessage = z.infer<typeof TerminalServerMessage>;

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(encoded: string): string | null {
  try {
    const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
