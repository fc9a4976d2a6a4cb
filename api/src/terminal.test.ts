import { describe, expect, it } from 'vitest';
import {
  bearerFromSubprotocols,
  TERMINAL_SUBPROTOCOL,
  TerminalClientMessage,
  terminalSubprotocols,
} from './terminal.js';

describe('terminal protocol', () => {
  it('carries a bearer token through the offered subprotocols and back, non-ASCII included', () => {
    const offered = terminalSubprotocols('dev:zoë@example.com');
    expect(offered[0]).toBe(TERMINAL_SUBPROTOCOL);
    // A subprotocol is an HTTP token: no '=', ':', '@' or '/' may appear in it.
    expect(offered[1]).toMatch(/^bearer\.[A-Za-z0-9_-]+$/);
    expect(bearerFromSubprotocols(offered)).toBe('dev:zoë@example.com');
    expect(bearerFromSubprotocols([TERMINAL_SUBPROTOCOL])).toBeNull();
    expect(bearerFromSubprotocols(['bearer.not base64'])).toBeNull();
    expect(bearerFromSubprotocols(['bearer.__8'])).toBeNull(); // not UTF-8
  });

  it('attaches to main, creating it, unless told otherwise', () => {
    expect(TerminalClientMessage.parse({ type: 'attach' })).toEqual({
      type: 'attach',
      session: 'main',
      create: true,
    });
  });

  it('refuses a message naming the field that is wrong', () => {
    const bad = TerminalClientMessage.safeParse({ type: 'resize', cols: 0, rows: 24 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['cols']);
    const unknown = TerminalClientMessage.safeParse({ type: 'exec', command: 'ls' });
    expect(unknown.error?.issues[0]?.path).toEqual(['type']);
    const path = TerminalClientMessage.safeParse({ type: 'attach', session: '../etc' });
    expect(path.error?.issues[0]?.path).toEqual(['session']);
  });
});
