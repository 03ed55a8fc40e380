import { describe, expect, it } from '@jest/globals';
import type { PruneOptions, PruneResult, StoreOperations } from '../adapters/task-store/operations.js';
import { silentLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { retentionAgeMs, startRetention } from './retention.js';

const settings = { maxAgeMs: 30 * 86_400_000, intervalMs: 600_000, batchSize: 500, maxBatches: 10 };

function fakeOps(results: Array<PruneResult | Error>): { ops: StoreOperations; calls: PruneOptions[] } {
  const calls: PruneOptions[] = [];
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  return {
    calls,
    ops: {
      pruneFinished: async (options) => {
        calls.push(options);
        const next = results.shift();
        if (!next) throw new Error('no more results');
        if (next instanceof Error) throw next;
        return next;
      },
      queueSnapshot: unused,
      listInFlight: unused,
      reportReplica: unused,
      listReplicas: unused,
      requestIntake: unused,
      listOperatorActions: unused,
    },
  };
}

describe('retention', () => {
  it('reads the age from RETENTION_MS when set, else from RETENTION_DAYS', () => {
    expect(retentionAgeMs({ days: 30, ms: 0 })).toBe(30 * 86_400_000);
    expect(retentionAgeMs({ days: 30, ms: 5_000 })).toBe(5_000);
    expect(retentionAgeMs({ days: 0, ms: 0 })).toBe(0);
  });

  it('counts what a run deleted and publishes when retention last ran, on any replica', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { ops, calls } = fakeOps([
      { ran: true, tasks: 7, events: 40, batches: 1, lastRunAt: '2026-12-06T10:00:00.000Z' },
      { ran: false, tasks: 0, events: 0, batches: 0, lastRunAt: '2026-12-06T10:05:00.000Z' },
      new Error('database down'),
    ]);
    const retention = startRetention({ ops, settings, holder: 'r1', metrics, logger: silentLogger(), timer: false });
    await retention.runOnce();
    await retention.runOnce();
    await retention.runOnce();
    retention.stop();
    expect(calls[0]).toMatchObject({ olderThanMs: settings.maxAgeMs, batchSize: 500, maxBatches: 10, holder: 'r1' });
    const deleted = (await metrics.retentionDeleted.get()).values;
    expect(deleted.find((v) => v.labels.table === 'tasks')?.value).toBe(7);
    expect(deleted.find((v) => v.labels.table === 'task_events')?.value).toBe(40);
    expect((await metrics.retentionLastRun.get()).values[0]?.value).toBe(Date.parse('2026-12-06T10:05:00Z') / 1000);
    expect((await metrics.retentionMaxAge.get()).values[0]?.value).toBe(30 * 86_400);
  });

  it('deletes nothing when the age is 0 (keep for ever)', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { ops, calls } = fakeOps([]);
    const retention = startRetention({
      ops,
      settings: { ...settings, maxAgeMs: 0 },
      holder: 'r1',
      metrics,
      logger: silentLogger(),
    });
    await retention.runOnce();
    retention.stop();
    expect(calls).toEqual([]);
    expect((await metrics.retentionMaxAge.get()).values[0]?.value).toBe(0);
  });
});
