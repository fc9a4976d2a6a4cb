import { startDashboardProxy } from '../../dashboard-proxy.js';
import { createContext } from '../context.js';
import { type Command, int } from './types.js';

export const dashboard: Command = {
  usage: 'dashboard [--port N]',
  summary:
    'Open the hub’s web page through a loopback proxy that adds your credential to every request (the way in behind Cloud Run IAM); prints the URL, runs until Ctrl-C',
  options: { port: { type: 'string' } },
  async run({ flags }) {
    const ctx = createContext(flags);
    // Fail here, not on the browser's first request, when there is no credential.
    await ctx.token();
    const proxy = await startDashboardProxy({
      hubUrl: ctx.hub.url,
      token: ctx.token,
      port: int(flags, 'port', 8765),
    });
    if (ctx.json) process.stdout.write(`${JSON.stringify({ url: proxy.url, hub: ctx.hub.url })}\n`);
    else
      process.stdout.write(
        `Workspace Hub ${ctx.hub.url} as ${ctx.devEmail ?? 'your Google account'}:\n  open ${proxy.url}\n(Ctrl-C to stop)\n`,
      );
    await new Promise<void>((resolve) => {
      const stop = () => void proxy.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
