/**
 * Two-phase shutdown on SIGTERM/SIGINT: the first signal drains (stop claiming, let in-flight tasks finish up
 * to the grace period, then abort and release them) and exits 0 when the drain settles.
 *
 * Orchestrators often send the same request twice (Kubernetes and a process supervisor, `docker stop` and a
 * wrapper script, a terminal's Ctrl-C reaching both npm and node), so signals that arrive within
 * `repeatWindowMs` of the first are the same request and only logged. A signal after that window is an
 * operator insisting: the process exits at once without waiting for in-flight tasks.
 */
import type { Logger } from '../observability/logger.js';

/** Where signals come from: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/** How long repeated signals count as the first one, in ms, unless told otherwise. */
export const DEFAULT_REPEAT_SIGNAL_WINDOW_MS = 5_000;

export interface ShutdownSignalOptions {
  logger: Logger;
  /** Drains and closes everything; its promise settling ends the process. */
  drain: () => Promise<void>;
  /** Ends the process. Default process.exit. */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
  /** Signals within this many ms of the first are treated as the first. Default 5_000; 0 makes every repeat force. */
  repeatWindowMs?: number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** Default `process`. */
  source?: SignalSource;
}

/** The conventional exit status of a process ended by `signal` (128 + its number). */
function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/** Install the handlers; returns a function that removes them. */
export function handleShutdownSignals(args: ShutdownSignalOptions): () => void {
  const exit = args.exit ?? ((code: number) => process.exit(code));
  const signals = args.signals ?? ['SIGTERM', 'SIGINT'];
  const source: SignalSource = args.source ?? process;
  const now = args.now ?? Date.now;
  const windowMs = args.repeatWindowMs ?? DEFAULT_REPEAT_SIGNAL_WINDOW_MS;
  let firstAt: number | undefined;
  let exiting = false;

  const finish = (code: number): void => {
    // A forced exit and the drain's own exit must not both run (exit handlers would run twice).
    if (exiting) return;
    exiting = true;
    exit(code);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstAt === undefined) {
      firstAt = now();
      args.logger.info({ signal }, 'shutting down: no new claims; waiting for in-flight tasks');
      args
        .drain()
        .then(() => finish(0))
        .catch((err: unknown) => {
          args.logger.error({ err }, 'shutdown failed');
          finish(1);
        });
      return;
    }
    const sinceFirstMs = now() - firstAt;
    if (sinceFirstMs < windowMs) {
      args.logger.info(
        { signal, sinceFirstMs, repeatWindowMs: windowMs },
        'already shutting down: a repeated signal this soon is the same request; send another later to exit at once',
      );
      return;
    }
    args.logger.warn({ signal, sinceFirstMs }, 'second signal: exiting now without waiting for in-flight tasks');
    finish(signalExitCode(signal));
  };

  for (const s of signals) source.on(s, onSignal);
  return () => {
    for (const s of signals) source.off(s, onSignal);
  };
}
