import { type TerminalServerMessage, terminalSubprotocols } from '@workspace-hub/core';
import { expect } from 'vitest';
import WebSocket from 'ws';

/** A browser terminal as the page opens it, with the `ws` client: what it saw, and waits on it. */
export interface TestTerminal {
  ws: WebSocket;
  messages: TerminalServerMessage[];
  output(): string;
  send(msg: unknown): void;
  type(text: string): void;
  waitForOutput(needle: string | RegExp): Promise<void>;
  waitForMessage<T extends TerminalServerMessage['type']>(
    type: T,
  ): Promise<Extract<TerminalServerMessage, { type: T }>>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export interface OpenOptions {
  origin?: string | null;
  protocols?: string[];
}

async function until(what: string, check: () => boolean, describe: () => string) {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}; saw ${describe()}`);
}

/** Opens `/workspaces/:id/terminal` as `email` (dev bearer in the subprotocol, as the page does). */
export function openTerminal(
  hubUrl: string,
  email: string,
  workspaceId: string,
  opts: OpenOptions = {},
): Promise<TestTerminal> {
  const origin = opts.origin === undefined ? hubUrl : opts.origin;
  const ws = new WebSocket(
    `${hubUrl.replace(/^http/, 'ws')}/workspaces/${workspaceId}/terminal`,
    opts.protocols ?? terminalSubprotocols(`dev:${email}`),
    origin === null ? {} : { origin },
  );
  const messages: TerminalServerMessage[] = [];
  let output = '';
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) output += data.toString('utf8');
    else messages.push(JSON.parse(data.toString('utf8')));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const terminal: TestTerminal = {
    ws,
    messages,
    output: () => output,
    send: (msg) => ws.send(JSON.stringify(msg)),
    type: (text) => ws.send(Buffer.from(text), { binary: true }),
    async waitForOutput(needle) {
      const found = () =>
        typeof needle === 'string' ? output.includes(needle) : needle.test(output);
      await until(`output ${needle}`, found, () => JSON.stringify(output.slice(-300)));
    },
    async waitForMessage(type) {
      await until(
        `a ${type} message`,
        () => messages.some((m) => m.type === type),
        () => JSON.stringify(messages),
      );
      const at = messages.findIndex((m) => m.type === type);
      // biome-ignore lint/suspicious/noExplicitAny: narrowed by `type`
      return messages.splice(at, 1)[0] as any;
    },
    closed,
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await closed;
      }
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(terminal));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d;
      });
      res.on('end', () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
            body: body ? JSON.parse(body) : null,
          }),
        ),
      );
    });
    ws.once('error', reject);
  });
}

/** The upgrade's refusal (status and problem body) when `open` fails. */
export async function refusal(open: Promise<TestTerminal>) {
  const err = await open.then(
    (t) => {
      void t.close();
      return null;
    },
    (e: { status?: number; body?: unknown }) => e,
  );
  expect(err, 'the upgrade should have been refused').not.toBeNull();
  return { status: err!.status, body: err!.body as Record<string, unknown> | null };
}
