/**
 * Each replica writes a small report of itself to the store (the `replicas` table) every `intervalMs`: intake
 * and why it is paused, breakers, rate budgets, outages, parked repositories, tasks in flight. The status page
 * reads these reports; nothing else does. The answer carries what people asked from the status page: a
 * replica asked to pause stops claiming (intake reason `operator`) until asked to resume.
 *
 * The report is built by the caller from its redacted status (no secrets, no people's emails) and kept small.
 */
import type { ReplicaState, StoreOperations } from '../adapters/task-store/operations.js';
import type { Logger } from '../observability/logger.js';
import type { IntakeGate } from './intake.js';

/** The intake reason of a pause asked for from the status page. */
export const OPERATOR_REASON = 'operator';

export interface ReplicaReports {
  /** Report now (the timer's work); resolves when written, never rejects (failures are logged). */
  reportNow(): Promise<void>;
  stop(): void;
}

export function startReplicaReports(deps: {
  ops: Pick<StoreOperations, 'reportReplica'>;
  name: string;
  startedAt: string;
  intervalMs: number;
  state: () => ReplicaState;
  intake: IntakeGate;
  /** Told when an operator's request paused (true) or resumed (false) this replica's intake. */
  onIntakeChange: (paused: boolean, by: string) => void;
  logger: Logger;
  /** Start the timer; tests call reportNow. Default true. */
  timer?: boolean;
}): ReplicaReports {
  const log = deps.logger.child({ component: 'replica-report' });
  const controller = new AbortController();
  const reportNow = async (): Promise<void> => {
    try {
      const record = await deps.ops.reportReplica(deps.name, deps.startedAt, deps.state(), controller.signal);
      const request = record.intakeRequest;
      if (!request) return;
      const paused = deps.intake.reasons().some((r) => r.reason === OPERATOR_REASON);
      if (request.state === 'paused' && !paused) {
        deps.intake.pause(OPERATOR_REASON);
        log.warn({ by: request.by, at: request.at }, 'intake paused from the status page');
        deps.onIntakeChange(true, request.by);
      } else if (request.state === 'running' && paused) {
        deps.intake.resume(OPERATOR_REASON);
        log.info({ by: request.by, at: request.at }, 'intake resumed from the status page');
        deps.onIntakeChange(false, request.by);
      }
    } catch (err) {
      if (!controller.signal.aborted) log.debug({ err }, 'could not report to the store');
    }
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  if (deps.timer !== false) {
    void reportNow();
    timer = setInterval(() => void reportNow(), deps.intervalMs);
    timer.unref();
  }
  return {
    reportNow,
    stop() {
      if (timer) clearInterval(timer);
      controller.abort();
    },
  };
}
