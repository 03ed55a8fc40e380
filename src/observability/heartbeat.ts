/**
 * The daemon's heartbeat: one info line every `intervalMs` saying what it holds, so an operator watching an idle
 * daemon knows it is alive and why it is idle (nothing queued, intake paused, a dry run). The numbers come from
 * `read`, which the client answers from what it tracks (the queue gauges, recounted for the line, and the pool).
 * The timer is unref'd: it never keeps a process alive; one beat at a time.
 */
import type { Logger } from './logger.js';

/** What a heartbeat line reports. */
export interface HeartbeatState {
  /** Tasks in the store per status, as last counted (empty before the first count). */
  queue: Partial<Record<string, number>>;
  /** Tasks this process is working on now. */
  inFlight: number;
  /** Why intake is paused, if it is (empty when open). */
  paused: string[];
  /** Whether this is a dry run (no agent runs, no PRs). */
  dryRun: boolean;
}

export interface Heartbeat {
  stop(): void;
  /** Log one line now (the timer calls this); resolves once it is logged. */
  beat(): Promise<void>;
}

/** The heartbeat's message: short enough to read at a glance on a terminal. */
export function heartbeatMessage(state: HeartbeatState): string {
  const waiting = (state.queue.pending ?? 0) + (state.queue.retry ?? 0);
  const parts = [`${waiting} waiting`, `${state.inFlight} in flight`];
  parts.push(state.paused.length > 0 ? `intake paused (${state.paused.join(', ')})` : 'intake open');
  if (state.dryRun) parts.push('dry run');
  return `heartbeat: ${parts.join(', ')}`;
}

/** Start logging a heartbeat every `intervalMs` (0: never; the handle's stop() is then a no-op). */
export function startHeartbeat(deps: {
  intervalMs: number;
  logger: Logger;
  read: () => HeartbeatState | Promise<HeartbeatState>;
}): Heartbeat {
  let beating = false;
  const beat = async (): Promise<void> => {
    if (beating) return;
    beating = true;
    try {
      const state = await deps.read();
      deps.logger.info(
        { queue: state.queue, inFlight: state.inFlight, paused: state.paused, dryRun: state.dryRun },
        heartbeatMessage(state),
      );
    } catch (err) {
      // A heartbeat must never take the daemon down.
      deps.logger.debug({ err }, 'could not log a heartbeat');
    } finally {
      beating = false;
    }
  };
  if (deps.intervalMs <= 0) return { stop: () => undefined, beat };
  const timer = setInterval(() => void beat(), deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), beat };
}
