/**
 * Keeps a claimed task's lease alive: a heartbeat at half the lease length for as long as the task runs.
 * When the store says the token is stale (another worker re-claimed the task, or a person cancelled it), the
 * task is aborted so this worker stops touching it.
 */
import { toDaemonError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { TaskStore } from '../pipeline/ports.js';

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface LeaseKeeper {
  stop(): void;
}

export function keepLease(args: {
  store: Pick<TaskStore, 'heartbeat'>;
  taskId: string;
  token: string;
  leaseMs: number;
  logger: Logger;
  signal: AbortSignal;
  onLost: (error: LeaseLostError) => void;
}): LeaseKeeper {
  const { store, taskId, token, leaseMs, logger } = args;
  let stopped = false;
  const beat = async (): Promise<void> => {
    try {
      await store.heartbeat(taskId, token, leaseMs, args.signal);
    } catch (raw) {
      if (stopped) return;
      const err = toDaemonError(raw);
      if (err.code === 'stale-lease' || err.code === 'invalid-transition' || err.code === 'task-not-found') {
        stopped = true;
        clearInterval(timer);
        args.onLost(new LeaseLostError(`task ${taskId}: lease lost (${err.code})`));
        return;
      }
      // The store is unreachable: keep trying; the lease stays ours unless someone re-claims after expiry.
      logger.warn({ err, taskId }, 'heartbeat failed; will retry');
    }
  };
  const timer = setInterval(() => void beat(), Math.max(50, Math.floor(leaseMs / 2)));
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
