#!/usr/bin/env node
/**
 * `docker` on a host without a container runtime. `run` checks the options
 * our user-data passes (refusing any other), makes the bind mounts for real,
 * and runs what the workspace image's CMD runs, the agent's entry point, as
 * the image's user with the image's environment plus `--env`: the image is not
 * pulled or built. `rm -f` finds nothing to remove; `stop` signals the agent.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** vm-agent/Dockerfile: its USER (dev, uid 1000), WORKDIR and ENV. */
const IMAGE_USER = { uid: 1000, gid: 1000, home: '/home/dev' };
const IMAGE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  AGENT_HOME: '/home/dev',
  AGENT_PORT: '2222',
  WORKSPACE_SECRETS_DIR: '/run/workspace-secrets',
  SHELL: '/bin/bash',
  LANG: 'C.UTF-8',
  HOME: IMAGE_USER.home,
};
const STATE_DIR = '/run/cos-host-docker';

function fail(message: string): never {
  process.stderr.write(`docker stand-in: ${message}\n`);
  process.exit(125);
}

function run(args: string[]): void {
  const env = { ...IMAGE_ENV };
  const mounts: Array<{ src: string; dst: string }> = [];
  let name = '';
  let i = 0;
  for (; i < args.length && args[i]?.startsWith('--'); i++) {
    const arg = args[i] ?? '';
    const [flag = '', value = ''] = arg.split(/=(.*)/s);
    if (flag === '--rm' || flag === '--init') continue;
    if (flag === '--name') name = value;
    else if (flag === '--network') {
      if (value !== 'host') fail(`only --network=host is carried out, not ${value}`);
    } else if (flag === '--log-driver') continue;
    else if (flag === '--env') {
      const [key = '', val = ''] = value.split(/=(.*)/s);
      env[key] = val;
    } else if (flag === '--mount') {
      const fields = Object.fromEntries(value.split(',').map((f) => f.split(/=(.*)/s)));
      if (fields.type !== 'bind' || !fields.src || !fields.dst) fail(`unsupported ${arg}`);
      mounts.push({ src: fields.src, dst: fields.dst });
    } else fail(`${flag} is not carried out`);
  }
  const image = args[i];
  if (!image || args.length > i + 1) fail('expected the image as the last argument (its CMD runs)');
  for (const { src, dst } of mounts) {
    // As docker: a missing bind source is an error, a missing destination is made.
    if (!existsSync(src)) fail(`invalid mount config: bind source path does not exist: ${src}`);
    mkdirSync(dst, { recursive: true });
    execFileSync('mount', ['--bind', src, dst]);
  }
  const agentMain = process.env.COS_HOST_AGENT_MAIN;
  if (!agentMain) fail('COS_HOST_AGENT_MAIN is not set');
  process.stdout.write(`docker stand-in: ${image} runs ${agentMain}\n`);
  const agent = spawn(
    'setpriv',
    [
      `--reuid=${IMAGE_USER.uid}`,
      `--regid=${IMAGE_USER.gid}`,
      '--clear-groups',
      '--',
      process.execPath,
      agentMain,
    ],
    { env, cwd: IMAGE_USER.home, stdio: 'inherit' },
  );
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(`${STATE_DIR}/${name}.pid`, String(agent.pid));
  process.on('SIGTERM', () => agent.kill('SIGTERM'));
  agent.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

const [verb, ...args] = process.argv.slice(2);
if (verb === 'run') run(args);
else if (verb === 'rm') process.exit(0);
else if (verb === 'stop') {
  const pidFile = `${STATE_DIR}/${args.at(-1)}.pid`;
  if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
} else fail(`${verb} is not carried out`);
