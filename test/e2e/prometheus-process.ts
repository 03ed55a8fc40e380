/**
 * Debian's Prometheus (and promtool) for the tests: find the binaries, run Prometheus on loopback against a
 * daemon with the project's rule files, and ask its HTTP API. Every process started here is stopped by stop();
 * each wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The path of `name` on PATH (or in /usr/bin), or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin']) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Why a test that needs these tools cannot run here, or undefined when it can. In CI a missing tool is an
 * error, never a skip: .ci/run installs Debian's prometheus package.
 */
export function missingTools(...names: string[]): string | undefined {
  const missing = names.filter((n) => !findTool(n));
  if (missing.length === 0) return undefined;
  const why = `${missing.join(' and ')} not installed (apt-get install -y prometheus)`;
  if (process.env.CI) throw new Error(`CI must run this test, but ${why}`);
  return why;
}

/** Run promtool with `args` (and `input` on stdin); resolves with its exit status and output. */
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const tool = findTool('promtool');
  if (!tool) throw new Error('promtool is not installed');
  const result = spawnSync(tool, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

export interface PrometheusProcess {
  url: string;
  /** An instant query; resolves with the result vector (throws on an API error). */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** GET /api/v1/rules: every rule with its health and last error. */
  rules(): Promise<Array<{ name: string; type: string; health: string; lastError?: string; query: string }>>;
  logs(): string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Start Prometheus on 127.0.0.1 scraping `target` (host:port) every second, with `ruleFiles` evaluated every second. */
export async function startPrometheus(options: { target: string; ruleFiles: string[] }): Promise<PrometheusProcess> {
  const binary = findTool('prometheus');
  if (!binary) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-prometheus-'));
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s }',
    `rule_files: ${JSON.stringify(options.ruleFiles.map((f) => path.resolve(f)))}`,
    'scrape_configs:',
    '  - job_name: codegen-pr',
    `    static_configs: [{ targets: [${JSON.stringify(options.target)}] }]`,
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${body.error ?? response.status}`);
    return body.data;
  };

  // Ready within 30 s, or the test fails with Prometheus' own words.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 30 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    query: async (expr) =>
      (
        await api<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    rules: async () =>
      (
        await api<{
          groups: Array<{
            rules: Array<{ name: string; type: string; health: string; lastError?: string; query: string }>;
          }>;
        }>('/api/v1/rules')
      ).groups.flatMap((g) => g.rules),
    logs: () => output,
    stop,
  };
}
