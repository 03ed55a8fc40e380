/**
 * Typed events of the daemon and of CodegenClient (the seed's events plus a few more). Logs and metrics
 * subscribe to these; a listener that throws is logged and never reaches the core.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/logger.js';

export interface ErrorSummary {
  code: string;
  category: string;
  message: string;
}

export interface DaemonEventMap {
  initialized: { worker: string; dryRun: boolean; store: string };
  task_claimed: { taskId: string; attempt: number };
  agent_run_created: { taskId: string; runId: number; webUrl?: string };
  prompt_generated: { taskId: string; template: string; length: number; content: string };
  pr_created: { taskId: string; url: string; number: number; branch: string; openedByDaemon: boolean };
  task_completed: {
    taskId: string;
    prUrl?: string;
    prNumber?: number;
    branch?: string;
    note?: string;
    durationMs: number;
  };
  task_failed: { taskId: string; error: ErrorSummary; willRetry: boolean; retryAt?: string; durationMs: number };
  task_released: { taskId: string; reason: string };
  lease_lost: { taskId: string };
  auth_error: { dependency: string; code: string; message: string };
  auth_restored: { dependency: string };
  intake_paused: { reason: string; until?: string };
  dependency_down: { dependency: string; kind: 'dependency' | 'credential'; code: string; message: string };
  dependency_up: { dependency: string; kind: 'dependency' | 'credential' };
  repository_parked: { repository: string; until: string; code: string; message: string };
  agent_run_adopted: { taskId: string; runId: number; how: 'intent' | 'reconciler' };
  late_pr: { taskId: string; url: string; runId: number };
  intake_resumed: { reason: string };
  shutdown: { graceful: boolean };
}

export type DaemonEventName = keyof DaemonEventMap;

export class DaemonEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger?: Logger) {
    // Many tests and library users subscribe; the default of 10 would warn for no reason.
    this.emitter.setMaxListeners(100);
  }

  on<E extends DaemonEventName>(event: E, listener: (payload: DaemonEventMap[E]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  once<E extends DaemonEventName>(event: E, listener: (payload: DaemonEventMap[E]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }

  off<E extends DaemonEventName>(event: E, listener: (payload: DaemonEventMap[E]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Calls each listener in turn; one that throws is logged and the others still run. */
  emit<E extends DaemonEventName>(event: E, payload: DaemonEventMap[E]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (p: DaemonEventMap[E]) => void)(payload);
      } catch (err) {
        this.logger?.error({ err, event }, 'event listener threw; ignored');
      }
    }
  }

  /** Resolves with the next payload of `event` that matches `predicate`. */
  waitFor<E extends DaemonEventName>(
    event: E,
    predicate: (payload: DaemonEventMap[E]) => boolean = () => true,
  ): Promise<DaemonEventMap[E]> {
    return new Promise((resolve) => {
      const listener = (payload: DaemonEventMap[E]): void => {
        if (!predicate(payload)) return;
        this.off(event, listener);
        resolve(payload);
      };
      this.on(event, listener);
    });
  }
}
