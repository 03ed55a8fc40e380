/**
 * The JSON every benchmark scenario writes next to its Markdown report, which `npm run bench` (bench/run-all.ts)
 * reads to print one table:
 *
 *   { scenario, title, machine, load: { start, end }, rows: [{ label, metrics }], summary?: [{ figure, value, comparison }] }
 *
 * `rows` hold every measured number; `summary` names the few figures the combined table shows (a scenario
 * without one, such as S1, is shown from its rows). Files go to BENCH_RESULTS_DIR (default bench/results) as
 * `<name>-<date>.json`; run-all points BENCH_RESULTS_DIR elsewhere for its smoke test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';

export interface Machine {
  cpus: number;
  model: string;
  memoryGb: number;
  node: string;
}

export interface ScenarioRow {
  label: string;
  metrics: Record<string, number | string | null>;
}

export interface SummaryFigure {
  figure: string;
  value: string;
  /** What the value is compared with, or the ratio, measured in the same run. */
  comparison: string;
}

export interface ScenarioResult {
  scenario: string;
  title?: string;
  machine: Machine;
  /** 1, 5 and 15-minute load averages when the scenario started and ended. */
  load: { start: number[]; end: number[] };
  rows: ScenarioRow[];
  summary?: SummaryFigure[];
}

/** Whether the benchmarks run shrunk to a smoke test (BENCH_QUICK=1). */
export const QUICK = process.env.BENCH_QUICK === '1';

/**
 * A benchmark setting from the environment: `full` (or `quick` under BENCH_QUICK=1) when unset; a clear error
 * naming the variable when it is not a non-negative number.
 */
export function envNumber(name: string, full: number, quick: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

export function describeMachine(): Machine {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
  };
}

export function loadNow(): number[] {
  return loadavg().map((l) => Number(l.toFixed(2)));
}

export function resultsDir(): string {
  return path.resolve(process.env.BENCH_RESULTS_DIR ?? 'bench/results');
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Writes `<dir>/<name>-<date>.json` and returns its path. */
export async function writeScenarioJson(name: string, result: ScenarioResult): Promise<string> {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${today()}.json`);
  await writeJson(file, result);
  return file;
}

/**
 * Writes a Markdown report as `<dir>/<name>-<date>.md`, formatted as the repository's prettier would (so a fresh
 * result passes `npm run lint`), prints it, and returns the formatted text.
 */
export async function writeMarkdownReport(name: string, raw: string): Promise<string> {
  const dir = resultsDir();
  const file = path.join(dir, `${name}-${today()}.md`);
  const report = await format(raw, { ...(await resolveConfig(file)), parser: 'markdown' });
  console.log(report);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, report);
  return report;
}

/** JSON as the repository's prettier formats it, so a result file passes `npm run lint` as written. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  const text = await format(JSON.stringify(value), { ...(await resolveConfig(file)), parser: 'json' });
  writeFileSync(file, text);
}

/** A number for a table: thousands separated, `digits` after the point. */
export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
