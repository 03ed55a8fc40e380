import { afterEach, describe, expect, it } from '@jest/globals';
import type { TaskStatus } from '../domain/task.js';
import { silentLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startQueueGauges, type QueueGauges } from './gauges.js';
import { createIntakeGate } from './intake.js';

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
});
