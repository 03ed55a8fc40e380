/**
 * No secret anywhere, from outside: the built daemon works through tasks while Codegen, GitHub and the Task API
 * (behind fault proxies) answer a share of requests with errors that quote our request headers back,
 * Authorization included. Afterwards no credential may appear in any log line, /status, /metrics, CLI output
 * or store column. And a user:password inside a configured URL is shown by neither /status, the startup log
 * line, nor `codegen-pr config`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startFaultProxy, type FaultProxy } from '../fakes/fault-proxy.js';
import { killAll, startDaemon } from './daemon-process.js';
import { startWorld, TASK_API_KEY, until, type World } from './world.js';

const run = promisify(execFile);
const MAIN = path.resolve('dist/src/main.js');
const STATUS_TOKEN = 'status-token-0123456789';

describe('no secret leaves the daemon', () => {
  let world: World;
  const proxies: FaultProxy[] = [];

  beforeAll(async () => {
    world = await startWorld({ pollsUntilDone: 1 });
  });
  afterAll(async () => {
    await killAll();
    await Promise.all(proxies.map((p) => p.close()));
    await world?.close();
  });

  /** Every credential of the run, and the parts a careless redaction would leave (the token without a prefix). */
  const secrets = (): string[] => [world.codegen.token, world.github.token, TASK_API_KEY, STATUS_TOKEN];
  const leaks = (where: string, text: string): string[] =>
    secrets()
      .filter((s) => text.includes(s))
      .map((s) => `${where} shows ${s.slice(0, 6)}…`);

  it('when upstream errors echo our credentials back', async () => {
    const echo = async (target: string, seed: number, echoStatus = 500) => {
      const proxy = await startFaultProxy({ target, rate: 0.25, kinds: ['echo-credentials'], seed, echoStatus });
      proxies.push(proxy);
      return proxy;
    };
    const codegen = await echo(world.codegen.url, 31);
    // A 422 is not retried: GitHub's echo reaches the task as its failure (stored, logged) word for word.
    const github = await echo(world.github.url, 32, 422);
    const taskApi = await echo(world.taskApiUrl, 33);
    const ids = Array.from({ length: 20 }, (_, i) => `secret-${i}`);
    await world.store.addTasks(ids.map((id) => ({ id, title: `Secrets ${id}`, description: 'd' })));
    const env = world.daemonEnv({
      CODEGEN_API_URL: codegen.url,
      GITHUB_API_URL: github.url,
      CLOUDFLARE_API_URL: taskApi.url,
      STATUS_TOKEN,
      LOG_LEVEL: 'debug',
      RECONCILE_INTERVAL_MS: '500',
      DEPENDENCY_PROBE_INTERVAL_MS: '100',
      OUTAGE_RETRY_MS: '200',
      MAX_RETRIES: '6',
    });
    const daemon = startDaemon(env);
    const tasks = async () => Promise.all(ids.map((id) => world.store.getTask(id)));
    await until(
      async () => (await tasks()).every((t) => t?.status === 'completed' || t?.status === 'failed'),
      120_000,
      async () => JSON.stringify((await tasks()).filter((t) => t?.status !== 'completed').slice(0, 2)),
    );
    const url = await daemon.httpUrl();
    const auth = { headers: { authorization: `Bearer ${STATUS_TOKEN}` } };
    // Without the token /status and /metrics refuse; with it they answer.
    expect((await fetch(`${url}/status`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const status = await (await fetch(`${url}/status`, auth)).text();
    const metrics = await (await fetch(`${url}/metrics`, auth)).text();
    expect(await daemon.stop('SIGTERM')).toBe(0);

    const injected = proxies.reduce((n, p) => n + p.injected['echo-credentials'], 0);
    expect(injected).toBeGreaterThan(20);
    // The echoes did reach the daemon: some failures were recorded from them.
    const history = (await Promise.all(ids.map((id) => world.store.getTaskHistory(id)))).flat();
    expect(history.some((e) => /headers|authorization/i.test(JSON.stringify(e.detail ?? {})))).toBe(true);

    const cliEnv = {
      PATH: process.env.PATH ?? '',
      CLOUDFLARE_API_URL: world.taskApiUrl,
      CLOUDFLARE_API_KEY: TASK_API_KEY,
    };
    const shows = await Promise.all(
      ids.map((id) => run(process.execPath, [MAIN, 'tasks', 'show', id], { env: cliEnv })),
    );
    const list = await run(process.execPath, [MAIN, 'tasks', 'list', '--limit', '100'], { env: cliEnv });
    const stored = JSON.stringify({ tasks: await tasks(), history });

    const found = [
      ...leaks('a log line', daemon.logs.map((l) => JSON.stringify(l)).join('\n') + daemon.stderr.join('')),
      ...leaks('/status', status),
      ...leaks('/metrics', metrics),
      ...leaks('tasks show', shows.map((s) => s.stdout + s.stderr).join('\n')),
      ...leaks('tasks list', list.stdout + list.stderr),
      ...leaks('a store column', stored),
    ];
    expect(found).toEqual([]);
    console.log(
      `secrets.e2e: ${injected} echoed-credential answers, ${daemon.logs.length} log lines, ` +
        `${(await tasks()).filter((t) => t?.status === 'completed').length}/${ids.length} completed, no secret found`,
    );
  }, 180_000);

  it('when a configured URL carries user:password', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      CODEGEN_API_URL: 'https://cg-user:cg-url-pass-4711@api.codegen.example',
      GITHUB_API_URL: 'https://gh-user:gh-url-pass-4712@github.example/api/v3',
      CLOUDFLARE_API_URL: 'https://tasks-user:tasks-url-pass-4713@tasks.example',
      CLOUDFLARE_API_KEY: TASK_API_KEY,
    };
    const passwords = ['cg-url-pass-4711', 'gh-url-pass-4712', 'tasks-url-pass-4713'];
    const config = await run(process.execPath, [MAIN, 'config'], { env });
    expect(passwords.filter((p) => (config.stdout + config.stderr).includes(p))).toEqual([]);
    expect(config.stdout).toContain('api.codegen.example');
  });
});
