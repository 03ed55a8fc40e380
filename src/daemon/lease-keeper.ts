/**
 * Keeps a claimed task's lease alive, and stops the task's work before the lease can have run out.
 *
 * A heartbeat every third of the lease, one at a time (a hung heartbeat never piles up behind itself), each
 * bounded by that interval. The lease is only known to be ours up to the moment the last successful heartbeat
 * was SENT plus the lease length (the store counts from when it ran the write, which is later); a safety margin
 * before that moment, without a newer success, the task is aborted as lease-lost. So a worker cut off from the
 * store stops before another worker can have re-claimed the task, and never calls Codegen or GitHub after that.
 * When the store says the token is stale (another worker re-claimed the task, or a person cancelled it), the
 * task is aborted at once.
 */
import { toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { TaskStore } from '../pipeline/ports.js';
import { timeoutSignal } from '../resilience/timeout-signal.js';

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface LeaseKeeper {
  stop(): void;
}

/** Fraction of the lease kept in hand: work stops when less than this is left since the last good heartbeat. */
const SAFETY_FRACTION = 0.2;

export function keepLease(args: {
  store: Pick<TaskStore, 'heartbeat'>;
  taskId: string;
  token: string;
  leaseMs: number;
  logger: Logger;
  signal: AbortSignal;
  onLost: (error: LeaseLostError) => void;
  /** When the lease was granted at the latest (just before the claim was sent). Default: now. */
  grantedAt?: number;
  now?: () => number;
}): LeaseKeeper {
  const { store, taskId, token, leaseMs, logger } = args;
  const now = args.now ?? Date.now;
  const intervalMs = Math.max(50, Math.floor(leaseMs / 3));
  const safeForMs = Math.max(1, Math.floor(leaseMs * (1 - SAFETY_FRACTION)));
  let stopped = false;
  let inFlight = false;
  let failures = 0;
  /** The store asked us to wait (Retry-After): no heartbeat before this time. */
  let notBefore = 0;
  let deadline: NodeJS.Timeout | undefined;

  const lose = (reason: string): void => {
    if (stopped) return;
    stop();
    args.onLost(new LeaseLostError(`task ${taskId}: ${reason}`));
  };

  /** Arm the stop for `safeForMs` after a heartbeat (or the claim) sent at `sentAt`. */
  const armDeadline = (sentAt: number): void => {
    if (deadline) clearTimeout(deadline);
    const left = Math.max(0, sentAt + safeForMs - now());
    deadline = setTimeout(
      () => lose(`no heartbeat got through for ${now() - sentAt} ms; stopping before the lease can run out`),
      left,
    );
    deadline.unref();
  };

  const beat = async (): Promise<void> => {
    if (stopped || inFlight || now() < notBefore) return;
    inFlight = true;
    const sentAt = now();
    try {
      const limit = timeoutSignal(intervalMs, args.signal);
      try {
        await store.heartbeat(taskId, token, leaseMs, limit.signal);
      } finally {
        limit.clear();
      }
      if (stopped) return;
      failures = 0;
      armDeadline(sentAt);
    } catch (raw) {
      if (stopped) return;
      const err = toDaemonError(raw);
      if (err.code === 'stale-lease' || err.code === 'invalid-transition' || err.code === 'task-not-found') {
        lose(`lease lost (${err.code})`);
        return;
      }
      // The store did not answer: keep trying; the deadline stops the task if none gets through in time.
      failures += 1;
      if (err.retryAfterMs !== undefined) notBefore = now() + err.retryAfterMs;
      logger.warn({ err, taskId, failures }, 'heartbeat failed; will retry');
    } finally {
      inFlight = false;
    }
  };

  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  armDeadline(args.grantedAt ?? now());

  function stop(): void {
    stopped = true;
    clearInterval(timer);
    if (deadline) clearTimeout(deadline);
  }
  return { stop };
}
