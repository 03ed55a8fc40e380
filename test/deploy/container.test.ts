/**
 * The image and the compose file without a Docker engine: the compose file is checked for what makes a deploy
 * survive (stop grace above the shutdown grace, restart policies, health-gated dependencies, provisioned
 * Prometheus and Grafana files that exist), and what the image runs is run here as the image would run it: the
 * Dockerfile's ENTRYPOINT (tini, then node) with each command, probed by the health checks compose uses.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { findTool, freePort } from '../e2e/prometheus-process.js';

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  restart?: string;
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number>;
  volumes?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const dockerfile = readFileSync('Dockerfile', 'utf8');
const productionGraceMs = (
  JSON.parse(readFileSync('config/production.json', 'utf8')) as { processing: { shutdownGraceMs: number } }
).processing.shutdownGraceMs;

/** "150s", "2m30s" -> ms. */
function durationMs(value: string | undefined): number {
  const parts = [...(value ?? '').matchAll(/(\d+)(h|m|s|ms)/g)];
  const unit = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

/** A Dockerfile instruction's exec-form (JSON array) arguments. */
function instruction(name: string): string[] {
  const line = dockerfile.split('\n').find((l) => l.startsWith(`${name} `));
  const json = line?.slice(line.indexOf('['));
  return json ? (JSON.parse(json) as string[]) : [];
}

/** The image path of a copied file mapped back to the checkout (COPY <src> <dest>). */
function fromImage(file: string): string {
  const copy = dockerfile.split('\n').find((l) => l.startsWith('COPY ') && l.trim().endsWith(` ${file}`));
  return copy ? (copy.split(/\s+/)[1] ?? file) : file;
}

describe('docker-compose.yml', () => {
  it('gives the daemon more time to stop than its shutdown grace, and the image its production grace', () => {
    const daemon = services.daemon as ComposeService;
    const graceMs = Number(daemon.environment?.SHUTDOWN_GRACE_MS ?? productionGraceMs);
    expect(graceMs).toBe(productionGraceMs);
    // After the grace, aborted tasks get up to 15 s to be released.
    expect(durationMs(daemon.stop_grace_period)).toBeGreaterThan(graceMs + 15_000);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production$/m);
  });

  it('caps the V8 old space in the image as npm start does, so a busy daemon keeps a heap near what it holds', () => {
    // Without a cap V8 sizes the heap from the machine's memory and lets it grow to 4x what is live between two
    // full collections: 336 MB RSS at 2,000 in flight against 199 MB with 512 (BENCHMARKS.md, memory).
    const image = /^ENV NODE_OPTIONS=--max-old-space-size=(\d+)$/m.exec(dockerfile)?.[1];
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const start = /^node --max-old-space-size=(\d+) dist\/src\/main\.js run$/.exec(pkg.scripts.start ?? '')?.[1];
    expect(image).toBeDefined();
    expect(start).toBe(image);
  });

  it('restarts every service and starts each only when what it needs is healthy', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      if (!['always', 'unless-stopped', 'on-failure'].includes(s.restart ?? '')) problems.push(`${name}: restart`);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = services[dep];
        if (!target) problems.push(`${name}: depends on unknown ${dep}`);
        else if (target.healthcheck && condition !== 'service_healthy')
          problems.push(`${name}: waits for ${dep} to start, not to be healthy`);
      }
    }
    expect(problems).toEqual([]);
    expect(services.daemon?.depends_on).toEqual({
      'task-api': { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('health-checks each codegen-pr command on its own endpoint', () => {
    expect(services['task-api']?.healthcheck?.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs', 'task-api']);
    expect(services.daemon?.healthcheck?.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs', 'run']);
    expect(services['task-api']?.command).toEqual(['task-api']);
    expect(services.daemon?.command).toEqual(['run']);
  });

  it('provisions Prometheus with its rules and Grafana with its datasource and dashboard, from files that exist', () => {
    const mounts = Object.values(services).flatMap((s) => s.volumes ?? []);
    const local = mounts.filter((m) => m.startsWith('./')).map((m) => m.split(':')[0] as string);
    expect(local.filter((p) => !existsSync(p))).toEqual([]);
    expect(services.prometheus?.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    for (const f of ['prometheus.yml', 'rules.yml', 'alerts.yml'])
      expect(existsSync(`deploy/prometheus/${f}`)).toBe(true);
    expect(services.grafana?.volumes).toEqual([
      './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
      './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
    ]);
    const provider = readFileSync('deploy/grafana/provisioning/dashboards/codegen-pr.yml', 'utf8');
    expect(provider).toContain('path: /var/lib/grafana/dashboards');
    const datasource = readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8');
    expect(datasource).toContain('url: http://prometheus:9090');
  });
});

const tiniMissing = findTool('tini') ? undefined : 'tini not installed (apt-get install -y tini)';
if (tiniMissing && process.env.CI) throw new Error(`CI must run the image checks, but ${tiniMissing}`);
if (tiniMissing) console.warn(`Dockerfile: running the ENTRYPOINT is skipped: ${tiniMissing}`);
const withTini = tiniMissing ? it.skip : it;

describe('what the image runs, outside Docker', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** Start ENTRYPOINT + args from the checkout (WORKDIR /app is the checkout here). */
  function runImage(args: string[], env: Record<string, string>) {
    const [cmd = '', ...rest] = instruction('ENTRYPOINT');
    const child = spawn(cmd, [...rest, ...args], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    return { child, exited, stderr: () => stderr };
  }

  /** Run a compose health check (its CMD array) with `env`; the image's /app path maps to the checkout. */
  function probe(test: string[], env: Record<string, string>): { status: number | null; stderr: string } {
    const [, node = 'node', script = '', ...args] = test;
    const result = spawnSync(node === 'node' ? process.execPath : node, [fromImage(script), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 15_000,
    });
    return { status: result.status, stderr: result.stderr };
  }

  async function untilHealthy(test: string[], env: Record<string, string>, run: ReturnType<typeof runImage>) {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const { status, stderr } = probe(test, env);
      if (status === 0) return;
      if (run.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`never healthy: ${stderr}; process exit ${run.child.exitCode}: ${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('runs under tini, and the health check probes the healthcheck file it copies', () => {
    expect(instruction('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--', 'node', 'dist/src/main.js']);
    expect(instruction('CMD')).toEqual(['run']);
    expect(instruction('HEALTHCHECK')).toEqual(['node', '/app/healthcheck.mjs']);
    expect(fromImage('/app/healthcheck.mjs')).toBe('deploy/docker/healthcheck.mjs');
  });

  withTini(
    'task-api: healthy on /health at TASK_API_PORT (not on the daemon port), and exits 0 on SIGTERM through tini',
    async () => {
      const port = String(await freePort());
      const closed = String(await freePort());
      const env = { TASK_API_PORT: port, TASK_API_HOST: '127.0.0.1', PORT: closed };
      const api = runImage(['task-api'], { ...env, TASK_API_KEY: 'k'.repeat(32), PGLITE_DIR: 'memory://' });
      const test = services['task-api']?.healthcheck?.test ?? [];
      await untilHealthy(test, env, api);
      // Its authenticated routes answer 401: only /health is fit for a health check.
      expect((await fetch(`http://127.0.0.1:${port}/tasks`)).status).toBe(401);
      // The daemon's probe does not fit this container: nothing serves /healthz here.
      expect(probe(['CMD', 'node', '/app/healthcheck.mjs', 'run'], env).status).toBe(1);
      api.child.kill('SIGTERM');
      expect(await api.exited).toBe(0);
    },
    60_000,
  );

  withTini(
    'run: the daemon is healthy on /healthz at PORT, and exits 0 on SIGTERM through tini',
    async () => {
      const port = String(await freePort());
      // No credentials: a dry run (production refuses to guess one) on the embedded store, which still serves
      // its HTTP endpoint.
      const env = { PORT: port, HOST: '127.0.0.1' };
      const daemon = runImage(['run'], { ...env, PGLITE_DIR: 'memory://', DRY_RUN: 'true' });
      await untilHealthy(services.daemon?.healthcheck?.test ?? [], env, daemon);
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    },
    60_000,
  );
});
