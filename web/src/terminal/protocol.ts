/**
 * The terminal protocol's message types, from webterm's schemas (api/src/terminal.ts). Type
 * imports only: the page must not bundle zod and every schema of the API for them.
 */
export type {
  TERMINAL_CLOSE_CODES,
  TerminalClientMessage,
  TerminalServerMessage,
  TerminalSessionInfo,
} from '@workspace-hub/api';
