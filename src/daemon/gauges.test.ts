import { afterEach, describe, expect, it } from '@jest/globals';
import type { TaskStatus } from '../domain/task.js';
import { silentLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startQueueGauges, type QueueGauges } from './gauges.js';
import { createIntakeGate } from './intake.js';
import type { QueueSnapshot } from '../adapters/task-store/operations.js';

/** The value of one labelled series of a gauge, or undefined when the series does not exist. */
async function gaugeValue(
  gauge: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> },
  labels: Record<string, string>,
): Promise<number | undefined> {
  const { values } = await gauge.get();
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value;
}

describe('startQueueGauges', () => {
  let gauges: QueueGauges | undefined;
  afterEach(() => gauges?.stop());

  it('writes 0 for a status the store no longer counts, instead of keeping its last depth', async () => {
    let counts: Partial<Record<TaskStatus, number>> = { pending: 50, awaiting_agent: 5 };
    const metrics = createMetrics({ defaultMetrics: false });
    gauges = startQueueGauges({
      store: { countByStatus: async () => counts },
      intake: createIntakeGate(),
      metrics,
      intervalMs: 60_000,
      logger: silentLogger(),
    });
    await gauges.refresh();
    expect(await gaugeValue(metrics.queueDepth, { status: 'pending' })).toBe(50);
    counts = { completed: 55 };
    await gauges.refresh();
    expect(await gaugeValue(metrics.queueDepth, { status: 'pending' })).toBe(0);
    expect(await gaugeValue(metrics.queueDepth, { status: 'awaiting_agent' })).toBe(0);
    expect(await gaugeValue(metrics.queueDepth, { status: 'retry' })).toBe(0);
    expect(await gaugeValue(metrics.queueDepth, { status: 'completed' })).toBe(55);
  });

  it('keeps the last depth when the store cannot be counted', async () => {
    let fail = false;
    const metrics = createMetrics({ defaultMetrics: false });
    gauges = startQueueGauges({
      store: {
        countByStatus: async () => {
          if (fail) throw new Error('store down');
          return { pending: 7 };
        },
      },
      intake: createIntakeGate(),
      metrics,
      intervalMs: 60_000,
      logger: silentLogger(),
    });
    await gauges.refresh();
    fail = true;
    await gauges.refresh();
    expect(await gaugeValue(metrics.queueDepth, { status: 'pending' })).toBe(7);
  });

  it('shows every intake reason at 0 or 1, and a lapsed reason goes back to 0', async () => {
    let now = 1_000;
    const intake = createIntakeGate(() => now);
    const metrics = createMetrics({ defaultMetrics: false });
    gauges = startQueueGauges({
      store: { countByStatus: async () => ({}) },
      intake,
      metrics,
      intervalMs: 60_000,
      logger: silentLogger(),
    });
    expect(await gaugeValue(metrics.intakePaused, { reason: 'quota' })).toBe(0);
    intake.pause('quota', 5_000);
    intake.pause('validation');
    gauges.refreshIntake();
    expect(await gaugeValue(metrics.intakePaused, { reason: 'quota' })).toBe(1);
    expect(await gaugeValue(metrics.intakePaused, { reason: 'validation' })).toBe(1);
    expect(await gaugeValue(metrics.intakePaused, { reason: 'shutdown' })).toBe(0);
    now = 6_000;
    intake.resume('validation');
    gauges.refreshIntake();
    expect(await gaugeValue(metrics.intakePaused, { reason: 'quota' })).toBe(0);
    expect(await gaugeValue(metrics.intakePaused, { reason: 'validation' })).toBe(0);
  });

  it('with a store that has operations: live rows every refresh, finished counts only after a change', async () => {
    let clock = 0;
    let snapshot: QueueSnapshot = {
      live: { pending: 3, retry: 0, claimed: 1, awaiting_agent: 0 },
      oldestReadyAgeSeconds: 42,
      oldestFinishedAgeSeconds: 86_400,
    };
    let finishedCounts = 0;
    const store = {
      countByStatus: async () => {
        finishedCounts += 1;
        return { pending: 3, claimed: 1, completed: 10 };
      },
      queueSnapshot: async () => snapshot,
      pruneFinished: async () => {
        throw new Error('not used');
      },
      reportReplica: async () => {
        throw new Error('not used');
      },
    };
    const metrics = createMetrics({ defaultMetrics: false });
    gauges = startQueueGauges({
      store,
      intake: createIntakeGate(),
      metrics,
      intervalMs: 60_000,
      logger: silentLogger(),
      now: () => clock,
    });
    await gauges.refresh();
    expect(await gaugeValue(metrics.queueDepth, { status: 'pending' })).toBe(3);
    expect(await gaugeValue(metrics.queueDepth, { status: 'completed' })).toBe(10);
    expect(await gaugeValue(metrics.queueDepth, { status: 'failed' })).toBe(0);
    expect((await metrics.oldestReadyTaskAge.get()).values[0]?.value).toBe(42);
    expect((await metrics.retentionOldestFinishedAge.get()).values[0]?.value).toBe(86_400);
    const afterFirst = finishedCounts;
    // Nothing changed in the live queue: finished rows are not read again.
    clock += 60_000;
    await gauges.refresh();
    await gauges.refresh();
    expect(finishedCounts).toBe(afterFirst);
    // A task finished: live counts changed, so finished counts are re-read.
    snapshot = { ...snapshot, live: { pending: 3, retry: 0, claimed: 0, awaiting_agent: 0 }, oldestReadyAgeSeconds: 0 };
    await gauges.refresh();
    expect(finishedCounts).toBe(afterFirst + 1);
    expect(await gaugeValue(metrics.queueDepth, { status: 'claimed' })).toBe(0);
    expect((await metrics.oldestReadyTaskAge.get()).values[0]?.value).toBe(0);
    expect(gauges.depth()).toMatchObject({ pending: 3, claimed: 0, completed: 10, failed: 0 });
  });
});
