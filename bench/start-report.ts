/**
 * The start benchmark's Markdown report: the machine and load, then per case the median (and range) of each
 * measurement over the repetitions.
 */
import { median } from './claim-report.js';

/** One daemon start. Times are ms from spawn; memory in MB (idle RSS absent for start-only cases). */
export interface StartSample {
  firstLineMs: number;
  storeReadyMs: number;
  initializedMs: number;
  idleRssMb?: number;
  peakRssMb?: number;
}

export interface StartCase {
  name: string;
  samples: StartSample[];
}

export interface StartRun {
  machine: string;
  node: string;
  /** 1-minute load average at the start and at the end. */
  load: number[];
  idleS: number;
  repeats: number;
  seconds: number;
  startedAt: string;
  cases: StartCase[];
}

function cell(values: Array<number | undefined>, unit: string, digits = 0): string {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (known.length === 0) return '-';
  const show = (v: number) => `${v.toFixed(digits)}${unit}`;
  const low = Math.min(...known);
  const high = Math.max(...known);
  return known.length === 1 ? show(known[0]!) : `${show(median(known))} (${show(low)}–${show(high)})`;
}

/** The report as Markdown. */
export function renderStartReport(run: StartRun): string {
  const lines = [
    `## Start and memory benchmark, ${run.startedAt} UTC`,
    '',
    `- Machine: ${run.machine}; Node ${run.node}`,
    `- Load average (1 min) at start / end: ${run.load.map((l) => l.toFixed(2)).join(' / ')}`,
    `- ${run.repeats} starts per case, median (min–max); idle ${run.idleS} s before memory is read; run ${run.seconds} s`,
    '',
    '| case | first log line | task store ready | initialized | idle RSS | peak RSS |',
    '| ---- | -------------: | ---------------: | ----------: | -------: | -------: |',
    ...run.cases.map((c) =>
      [
        '',
        c.name,
        cell(
          c.samples.map((s) => s.firstLineMs),
          ' ms',
        ),
        cell(
          c.samples.map((s) => s.storeReadyMs),
          ' ms',
        ),
        cell(
          c.samples.map((s) => s.initializedMs),
          ' ms',
        ),
        cell(
          c.samples.map((s) => s.idleRssMb),
          ' MB',
        ),
        cell(
          c.samples.map((s) => s.peakRssMb),
          ' MB',
        ),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    '',
  ];
  return `${lines.join('\n')}\n`;
}
