/**
 * The Task API as a Cloudflare Worker: wrangler bundles deploy/cloudflare/wrangler.toml, and `wrangler dev`
 * (workerd on this machine) serves the app against the PostgreSQL in DATABASE_URL through the local Hyperdrive
 * binding. Wrangler's warnings about unreachable Cloudflare hosts are expected here: there is no network.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

const CONFIG = 'deploy/cloudflare/wrangler.toml';
const WRANGLER_DIR = path.join('deploy', 'cloudflare', '.wrangler');
const hadWranglerDir = existsSync(WRANGLER_DIR);
const work = mkdtempSync(path.join(tmpdir(), 'task-api-worker-'));
const databaseUrl = process.env.DATABASE_URL;

/** Keep wrangler's config, logs and metrics consent out of the home directory, and metrics off. */
const wranglerEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  XDG_CONFIG_HOME: path.join(work, 'config'),
  WRANGLER_LOG_PATH: path.join(work, 'logs'),
  NO_COLOR: '1',
};

/** Run wrangler; resolves with its exit code and output. */
function wrangler(args: string[], env: NodeJS.ProcessEnv = wranglerEnv): { child: ChildProcess; output: () => string } {
  // detached: its own process group, so the whole tree (npx, wrangler, esbuild, workerd) can be killed at once.
  const child = spawn('npx', ['wrangler', ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('error', (err) => (output += `\nspawn failed: ${err.message}`));
  return { child, output: () => output };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is already gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const running: ChildProcess[] = [];

afterAll(async () => {
  for (const child of running) await killGroup(child);
  rmSync(work, { recursive: true, force: true });
  if (!hadWranglerDir) rmSync(WRANGLER_DIR, { recursive: true, force: true });
});

describe('the Worker bundle', () => {
  it('builds with wrangler deploy --dry-run', async () => {
    const outdir = path.join(work, 'bundle');
    const run = wrangler(['deploy', '--dry-run', '--outdir', outdir, '-c', CONFIG]);
    running.push(run.child);
    expect({ code: await exited(run.child), output: run.output() }).toMatchObject({ code: 0 });
    const bundle = path.join(outdir, 'worker.js');
    expect(statSync(bundle).size).toBeGreaterThan(50_000);
    const text = readFileSync(bundle, 'utf8');
    expect(text).toContain('/openapi.json');
    expect(text).toContain('HYPERDRIVE');
  }, 60_000);
});

const maybe = databaseUrl ? describe : describe.skip;
if (!databaseUrl) console.warn('worker.test.ts: wrangler dev round trip skipped: DATABASE_URL is not set');

maybe('wrangler dev against PostgreSQL', () => {
  const schema = `task_api_worker_${process.pid}`;

  afterAll(async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('answers /health and a POST /tasks + GET /tasks round trip', async () => {
    // Hyperdrive insists on a password in the connection string; a trust-auth server ignores it.
    const connection = new URL(databaseUrl!);
    if (!connection.password) connection.password = 'unused';
    const port = await freePort();
    const key = `worker-key-${process.pid}`;
    const run = wrangler(
      [
        'dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '-c',
        CONFIG,
        '--persist-to',
        path.join(work, 'state'),
        '--var',
        `TASK_API_KEY:${key}`,
        '--var',
        `TASK_STORE_SCHEMA:${schema}`,
      ],
      { ...wranglerEnv, CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: connection.toString() },
    );
    running.push(run.child);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`wrangler dev not ready in 60 s:\n${run.output()}`)), 60_000);
        const onData = () => {
          if (/Ready on http/.test(run.output())) {
            clearTimeout(timer);
            resolve();
          }
        };
        run.child.stdout?.on('data', onData);
        run.child.stderr?.on('data', onData);
        run.child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`wrangler dev exited (${code}):\n${run.output()}`));
        });
      });
      const base = `http://127.0.0.1:${port}`;
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

      const health = await fetch(`${base}/health`);
      expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok' } });
      expect((await fetch(`${base}/tasks`)).status).toBe(401);

      const created = await fetch(`${base}/tasks`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          id: 'worker-1',
          title: 'From the Worker',
          description: 'round trip',
          repository: 'acme/web',
        }),
      });
      expect(created.status).toBe(201);
      const listed = await fetch(`${base}/tasks?status=pending&limit=10`, { headers: auth });
      expect(listed.status).toBe(200);
      const page = (await listed.json()) as { tasks: Array<{ id: string; repository?: string }>; nextCursor: unknown };
      expect(page.tasks).toEqual([expect.objectContaining({ id: 'worker-1', repository: 'acme/web' })]);
      expect(page.nextCursor).toBeNull();
    } finally {
      await killGroup(run.child);
    }
  }, 90_000);
});
