/**
 * `npm run bench` (bench/run-all.ts) in quick mode on one fast scenario (S6, pickup on PostgreSQL): it runs the
 * scenario in a child process, prints one table, and writes bench-<date>.md and .json (machine, load averages,
 * the scenario's own JSON) where BENCH_RESULTS_DIR points. Only the shape is checked, never a timing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

const DATABASE_URL = process.env.DATABASE_URL;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runAll(env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--loader', 'ts-node/esm', '--no-warnings', 'bench/run-all.ts'], {
      // NODE_OPTIONS of jest's own (--experimental-vm-modules) is not for the child.
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run bench: options', () => {
  it('refuses an unknown scenario in BENCH_ONLY, naming the variable and the known ids', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-bench-'));
    dirs.push(dir);
    const ran = await runAll({ BENCH_ONLY: 'S6,S9', BENCH_RESULTS_DIR: dir });
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain('BENCH_ONLY names unknown scenarios: S9');
    expect(ran.stderr).toContain('S6');
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);
});

if (!DATABASE_URL) console.warn('bench-run-all: DATABASE_URL is not set, so the quick run of S6 is skipped');
const maybe = DATABASE_URL ? describe : describe.skip;

maybe('npm run bench in quick mode (S6 only)', () => {
  it('prints one table and writes the run as Markdown and JSON with the machine and load averages', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-pr-bench-'));
    dirs.push(dir);
    const ran = await runAll({ BENCH_ONLY: 's6', BENCH_QUICK: '1', BENCH_RESULTS_DIR: dir });
    expect({ code: ran.code, stderr: ran.code === 0 ? '' : ran.stderr }).toEqual({ code: 0, stderr: '' });

    // The one table, on stdout.
    expect(ran.stdout).toMatch(/\| scenario\s+\| figure\s+\| value\s+\| comparison \/ ratio \(same run\)\s+\|/);
    expect(ran.stdout).toMatch(/\| S6\s+\| add to claimed, p95 \(push\)\s+\| \d[\d,]* ms\s+\|/);

    const files = readdirSync(dir);
    const md = files.find((f) => /^bench-\d{4}-\d{2}-\d{2}\.md$/.test(f));
    const json = files.find((f) => /^bench-\d{4}-\d{2}-\d{2}\.json$/.test(f));
    expect({ md, json }).toEqual({ md: expect.any(String), json: expect.any(String) });
    expect(readFileSync(path.join(dir, md ?? ''), 'utf8')).toContain('| S6 ');

    const run = JSON.parse(readFileSync(path.join(dir, json ?? ''), 'utf8')) as {
      quick: boolean;
      machine: { cpus: number; memoryGb: number; node: string };
      scenarios: Array<{
        ids: string[];
        status: string;
        load: { start: number[]; end: number[] };
        results: Array<{
          scenario: string;
          load: { start: number[]; end: number[] };
          rows: Array<{ label: string; metrics: Record<string, unknown> }>;
        }>;
      }>;
      table: Array<{ scenario: string; figure: string; value: string; comparison: string }>;
    };
    expect(run.quick).toBe(true);
    expect(Number.isInteger(run.machine.cpus) && run.machine.cpus > 0).toBe(true);
    expect(run.machine.memoryGb).toBeGreaterThan(0);
    expect(run.machine.node).toBe(process.version);
    expect(run.scenarios.map((s) => [s.ids, s.status])).toEqual([[['S6'], 'ok']]);
    const [scenario] = run.scenarios;
    for (const load of [scenario?.load.start, scenario?.load.end, scenario?.results[0]?.load.start]) {
      expect(load).toHaveLength(3);
      expect(load?.every((l) => typeof l === 'number' && l >= 0)).toBe(true);
    }
    const result = scenario?.results[0];
    expect(result?.scenario).toBe('S6');
    expect(result?.rows.map((r) => r.label)).toEqual(['push pickup (LISTEN/NOTIFY)', 'polling only']);
    for (const row of result?.rows ?? []) {
      expect(Object.values(row.metrics).every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    }
    expect(run.table.length).toBeGreaterThan(0);
    expect(run.table.every((r) => r.scenario === 'S6' && r.value !== '' && r.figure !== '')).toBe(true);
    // The scenario's own reports sit in a folder beside the run's.
    const own = readdirSync(path.join(dir, (json ?? '').replace(/\.json$/, '')));
    expect(own.some((f) => /^s6-pickup-\d{4}-\d{2}-\d{2}\.json$/.test(f))).toBe(true);
  }, 120_000);
});
