/**
 * Two-phase shutdown on SIGTERM/SIGINT: the first signal drains (stop claiming, let in-flight tasks finish up
 * to the grace period, then abort and release them) and exits 0; a second signal exits at once.
 */
import type { Logger } from '../observability/logger.js';

export function handleShutdownSignals(args: {
  logger: Logger;
  /** Drains and closes everything; its promise settling ends the process. */
  drain: () => Promise<void>;
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}): () => void {
  const exit = args.exit ?? ((code: number) => process.exit(code));
  const signals = args.signals ?? ['SIGTERM', 'SIGINT'];
  let draining = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (draining) {
      args.logger.warn({ signal }, 'second signal: exiting now without waiting for in-flight tasks');
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    draining = true;
    args.logger.info({ signal }, 'shutting down: no new claims; waiting for in-flight tasks');
    args
      .drain()
      .then(() => exit(0))
      .catch((err: unknown) => {
        args.logger.error({ err }, 'shutdown failed');
        exit(1);
      });
  };

  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
