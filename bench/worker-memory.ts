/**
 * The worker's memory over a benchmark case: peak RSS from /proc (VmHWM, what the kernel counted, start-up
 * included), and the V8 heap read from the daemon's own /metrics (prom-client's default Node metrics), sampled
 * about once a second; the sample taken with the most agent runs in flight is kept apart.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { sampleValue } from '../test/e2e/metrics-text.js';

/** One reading of the worker's memory, MB. */
export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

export interface WorkerMemory {
  /** VmHWM: the most resident memory the worker ever had, MB. */
  peakRssMb: number;
  /** Highest heap used and heap total seen over the samples, MB (0 when /metrics never answered). */
  peakHeapUsedMb: number;
  peakHeapTotalMb: number;
  /** The first sample taken with the most agent runs in flight (undefined: /metrics never answered). */
  atFull?: MemorySample & { runsInFlight: number };
  samples: number;
}

const MB = 1024 * 1024;

/** A TCP port free at the moment of asking, for the worker's /metrics server. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM of a live process, MB (zeros when /proc cannot be read). */
export function residentMb(pid: number | undefined): { rssMb: number; peakRssMb: number } {
  if (pid === undefined) return { rssMb: 0, peakRssMb: 0 };
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: 0, peakRssMb: 0 };
  }
}

/** Samples one worker: call `sample` from the harness's loop; it reads /metrics at most once a second. */
export function watchWorkerMemory(pid: number | undefined, metricsUrl: string | undefined) {
  const memory: WorkerMemory = { peakRssMb: 0, peakHeapUsedMb: 0, peakHeapTotalMb: 0, samples: 0 };
  let lastRead = 0;
  let pending = false;

  async function read(): Promise<MemorySample | undefined> {
    if (metricsUrl === undefined) return undefined;
    try {
      const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) return undefined;
      const text = await response.text();
      const value = (name: string) => (sampleValue(text, `codegen_pr_nodejs_${name}`) ?? 0) / MB;
      return {
        rssMb: residentMb(pid).rssMb,
        heapUsedMb: value('heap_size_used_bytes'),
        heapTotalMb: value('heap_size_total_bytes'),
        externalMb: value('external_memory_bytes'),
      };
    } catch {
      return undefined; // not listening yet, or busy past the timeout: the next turn tries again
    }
  }

  return {
    memory,
    /** `runsInFlight`: agent runs started and not yet ended, now. */
    async sample(runsInFlight: number): Promise<void> {
      memory.peakRssMb = Math.max(memory.peakRssMb, residentMb(pid).peakRssMb);
      const most = runsInFlight > (memory.atFull?.runsInFlight ?? 0);
      const due = Date.now() - lastRead >= 1_000 || most;
      if (pending || !due) return;
      pending = true;
      lastRead = Date.now();
      try {
        const s = await read();
        if (!s) return;
        memory.samples += 1;
        memory.peakHeapUsedMb = Math.max(memory.peakHeapUsedMb, s.heapUsedMb);
        memory.peakHeapTotalMb = Math.max(memory.peakHeapTotalMb, s.heapTotalMb);
        if (runsInFlight > (memory.atFull?.runsInFlight ?? 0)) memory.atFull = { ...s, runsInFlight };
      } finally {
        pending = false;
      }
    },
  };
}
