import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Workspace } from '@workspace-hub/api';
import type { CliContext } from '../context.js';
import { waitForGone, waitForStatus } from '../wait.js';
import { tunnelHint } from './checks.js';
import { runStep, type Step, type StepResult, skipped } from './step.js';

const run = promisify(execFile);
const SSH_TIMEOUT_MS = 120_000;

/**
 * One workspace's whole life, as a user lives it: create, READY, a command
 * over ssh (IAP, or loopback locally), suspend, resume, delete. The workspace
 * is deleted even when a step in between fails.
 */
export async function lifecycleSteps(
  ctx: CliContext,
  timeoutSeconds: number,
  report: (r: StepResult) => void,
): Promise<void> {
  let ws: Workspace | undefined;
  const id = () => ws?.id ?? 'the workspace';
  const gce = !ctx.local;
  const logs = () =>
    gce
      ? `the VM's serial console (\`gcloud compute instances get-serial-port-output ${id()} --zone ${ws?.zone}\`) and the agent's Cloud Logging entries`
      : "the hub's output";

  const steps: Step[] = [
    {
      name: 'create',
      async run() {
        ws = await ctx.client.createWorkspace({ device_id: ctx.deviceId });
        return { detail: `${ws.id} ${ws.machine_type} in ${ws.zone}` };
      },
      hint: () =>
        gce
          ? "see the detail; the hub's service account needs roles/compute.instanceAdmin.v1 and roles/iam.serviceAccountUser on the workspace service account, and the zone needs quota for the machine type"
          : "see the detail and the hub's output",
    },
    {
      name: 'ready',
      async run() {
        ws = await waitForStatus(ctx, id(), 'READY', timeoutSeconds);
        return { detail: `${ws.id} READY, agent ${ws.agent?.version ?? '?'}` };
      },
      hint: () =>
        gce
          ? `the agent never reported ready: read ${logs()}; the VM must reach the hub (external IP or Cloud NAT), pull workspace_image (roles/artifactregistry.reader for the workspace service account) and call the hub (roles/run.invoker)`
          : `the local agent did not start: read ${logs()}`,
    },
    {
      name: 'ssh',
      async run() {
        // Loaded only for this step: it brings the tunnel and the host-key pinning.
        const { prepareSsh, sshArgs } = await import('../ssh-target.js');
        const target = await prepareSsh(ctx, id());
        const { stdout } = await run(
          'ssh',
          [
            ...sshArgs(target),
            '-o',
            'BatchMode=yes',
            '-T',
            '--',
            target.alias,
            'echo',
            'wsh-doctor',
          ],
          { timeout: SSH_TIMEOUT_MS },
        );
        if (stdout.trim() !== 'wsh-doctor')
          throw new Error(
            `ssh ran, but the command printed ${JSON.stringify(stdout.slice(0, 80))}`,
          );
        return {
          detail: `ran a command on ${target.alias} ${gce ? 'through IAP' : 'over loopback'}`,
        };
      },
      hint: (err) => {
        const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
        const said = stderr ? `ssh said: ${stderr.split('\n').at(-1)}; ` : '';
        return `${said}${ws ? tunnelHint(ctx, ws, err) : ''}`;
      },
    },
    {
      name: 'suspend',
      async run() {
        await ctx.client.stopWorkspace(id());
        ws = await waitForStatus(ctx, id(), 'SUSPENDED', timeoutSeconds);
        return { detail: `${ws.id} SUSPENDED${ws.status_reason ? ` (${ws.status_reason})` : ''}` };
      },
      hint: () =>
        `\`wsh status ${id()}\` shows the workspace's error; the hub's logs show the Compute operation's`,
    },
    {
      name: 'resume',
      async run() {
        await ctx.client.startWorkspace(id());
        ws = await waitForStatus(ctx, id(), 'READY', timeoutSeconds);
        return { detail: `${ws.id} READY again` };
      },
      hint: () =>
        `\`wsh status ${id()}\`; a resumed VM's agent must report ready again: read ${logs()}`,
    },
  ];

  let failed: string | undefined;
  for (const step of steps) {
    if (failed) {
      report(skipped(step.name, `${failed} failed`));
      continue;
    }
    const result = await runStep(step);
    report(result);
    if (result.status === 'fail') failed = step.name;
  }
  if (!ws) return report(skipped('delete', 'nothing was created'));
  const created = ws;
  report(
    await runStep({
      name: 'delete',
      async run() {
        await ctx.client.deleteWorkspace(created.id);
        await waitForGone(ctx, created.id, timeoutSeconds);
        return { detail: `${created.id} deleted` };
      },
      hint: () =>
        `delete it by hand: \`wsh rm ${created.id} --yes\`${gce ? `, or \`gcloud compute instances delete ${created.instance_name} --zone ${created.zone}\` if the hub lost track of it` : ''}`,
    }),
  );
}
