/**
 * The claim benchmark's output: the machine it ran on and the Markdown tables (medians, then every repetition),
 * printed and written to bench/results/claim-<date>.md.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type pg from 'pg';

/** Where the numbers came from. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: string;
  postgres: string;
  node: string;
}

/** One (claimers, batch) cell: claims per second of every repetition, per contender name. */
export interface Cell {
  claimers: number;
  batch: number;
  rates: Record<string, number[]>;
}

export interface RunInfo {
  tasks: number;
  repetitions: number;
  startedAt: string;
  seconds: number;
  /** Of `seconds`, the untimed emptying and refilling of the queues. */
  fillSeconds: number;
  /** 1-minute load average at the start and the end: other work on the host skews the numbers. */
  load: [number, number];
}

/** The CPU model as /proc/cpuinfo names it (os.cpus() on systems without it). */
function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return cpus()[0]?.model ?? 'unknown';
}

export async function describeMachine(admin: pg.Pool): Promise<Machine> {
  const version = await admin.query<{ version: string }>('SELECT version()');
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: (totalmem() / 2 ** 30).toFixed(1),
    postgres: version.rows[0]?.version ?? 'unknown',
    node: process.version,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const rate = (value: number) => Math.round(value).toLocaleString('en-US');

/** The whole report: machine, medians with the ratio ours/pg-boss, then each repetition. */
export function renderReport(machine: Machine, run: RunInfo, cells: Cell[], ours: string, theirs: string): string {
  const lines = [
    `## Claim benchmark, ${run.startedAt}`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB memory`,
    `- PostgreSQL: ${machine.postgres}`,
    `- Node: ${machine.node}`,
    `- ${run.tasks.toLocaleString('en-US')} tasks per measurement, median of ${run.repetitions} repetitions, ` +
      `whole run ${run.seconds.toFixed(0)} s (${run.fillSeconds.toFixed(0)} s of it untimed refilling)`,
    `- Load average (1 min) at start / end: ${run.load[0].toFixed(2)} / ${run.load[1].toFixed(2)}`,
    `- ${ours}: claimTasks (one statement, includes one history row per claim); ${theirs}: fetch`,
    '',
    `| claimers | batch | ${ours} claims/s | ${theirs} claims/s | ${ours} / ${theirs} |`,
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const cell of cells) {
    const a = median(cell.rates[ours] ?? []);
    const b = median(cell.rates[theirs] ?? []);
    lines.push(`| ${cell.claimers} | ${cell.batch} | ${rate(a)} | ${rate(b)} | ${(a / b).toFixed(2)} |`);
  }
  lines.push(
    '',
    'Every repetition (claims/s):',
    '',
    '| claimers | batch | contender | runs |',
    '| ---: | ---: | --- | --- |',
  );
  for (const cell of cells) {
    for (const name of [ours, theirs]) {
      lines.push(`| ${cell.claimers} | ${cell.batch} | ${name} | ${(cell.rates[name] ?? []).map(rate).join(', ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
