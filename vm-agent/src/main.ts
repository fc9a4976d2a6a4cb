#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { log } from './log.js';
import { startAgent } from './server.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vm-agent: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Handlers go in before the server starts: a SIGTERM right after the ready
  // line must still shut down cleanly, not hit the default disposition.
  let agent: Awaited<ReturnType<typeof startAgent>> | null = null;
  let stopSignal: string | null = null;
  const stop = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (!agent) return;
    log('INFO', 'shutting down', { signal });
    agent.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // stderr may be a pipe whose reader died (see log.ts): a write error there
  // (a Node warning, say) must not become an uncaught exception either.
  process.stderr.on('error', () => {});
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGCONT: the process was stopped and has just been continued (the local
  // driver's suspend/resume). The wall-clock check misses short freezes, and a
  // resumed workspace stays RESUMING until the agent reports ready.
  process.on('SIGCONT', () => agent?.reportReady());
  agent = await startAgent(config);
  if (stopSignal) {
    const signal = stopSignal;
    stopSignal = null;
    stop(signal);
  }
  // A callback or client bug must not take every terminal down with it.
  process.on('uncaughtException', (err) =>
    log('ERROR', 'uncaught exception', { error: err.stack ?? err.message }),
  );
  process.on('unhandledRejection', (err) =>
    log('ERROR', 'unhandled rejection', { error: String(err) }),
  );
}

void main().catch((err) => {
  process.stderr.write(`vm-agent: ${(err as Error).message}\n`);
  process.exit(1);
});
