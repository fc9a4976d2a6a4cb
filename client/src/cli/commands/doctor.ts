import { createContext } from '../context.js';
import {
  credentialsStep,
  deviceKeyStep,
  hubStep,
  identityStep,
  tunnelStep,
} from '../doctor/checks.js';
import { lifecycleSteps } from '../doctor/lifecycle.js';
import { stepLine, summaryLine } from '../doctor/report.js';
import { runStep, type StepResult, skipped } from '../doctor/step.js';
import { type Command, int } from './types.js';

export const doctor: Command = {
  usage: 'doctor [--full] [--timeout S]',
  summary:
    'Check the hub, your identity, your device key and the way to workspaces; --full also lives one workspace through create, ssh, suspend, resume and delete',
  options: { full: { type: 'boolean' }, timeout: { type: 'string' } },
  async run({ flags }) {
    const ctx = createContext(flags);
    const results: StepResult[] = [];
    const report = (r: StepResult) => {
      results.push(r);
      if (!ctx.json) process.stdout.write(`${stepLine(r)}\n`);
    };

    const credentials = await runStep(credentialsStep(ctx));
    report(credentials);
    const hub =
      credentials.status === 'fail'
        ? skipped('hub', 'needs credentials')
        : await runStep(hubStep(ctx));
    report(hub);
    const identity =
      hub.status !== 'ok' ? skipped('identity', 'needs the hub') : await runStep(identityStep(ctx));
    report(identity);
    const usable = identity.status === 'ok';
    for (const step of [deviceKeyStep(ctx), tunnelStep(ctx)])
      report(usable ? await runStep(step) : skipped(step.name, 'needs a working identity'));
    if (flags.full) {
      if (results.some((r) => r.status === 'fail'))
        report(skipped('lifecycle', 'a check above failed; fix it first'));
      else await lifecycleSteps(ctx, int(flags, 'timeout', 600)!, report);
    }

    const ok = !results.some((r) => r.status === 'fail');
    if (ctx.json)
      process.stdout.write(
        `${JSON.stringify({ ok, hub: ctx.hub.url, transport: ctx.local ? 'direct' : 'iap', steps: results }, null, 2)}\n`,
      );
    else process.stdout.write(`${summaryLine(results)}\n`);
    return ok ? 0 : 1;
  },
};
