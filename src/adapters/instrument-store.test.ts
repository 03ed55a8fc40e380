import { describe, expect, it } from '@jest/globals';
import { makeTask, RecordingStore } from '../../test/fakes/memory-ports.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { TaskStore } from '../pipeline/ports.js';
import { instrumentStore } from './instrument-store.js';

async function requests(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.externalRequests.get();
  return Object.fromEntries(
    values.map((v) => [`${v.labels.dependency} ${v.labels.kind} ${v.labels.outcome}`, v.value]),
  );
}

describe('instrumentStore', () => {
  it('counts and times every store call by kind and outcome, and passes results and errors through', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const inner = new RecordingStore(makeTask({ id: 't1' }), 'good');
    const store = instrumentStore(inner as unknown as TaskStore, metrics);

    const lease = await store.heartbeat('t1', 'good', 1_000);
    expect(lease.token).toBe('good');
    const refused = await store.completeTask('t1', 'stale', {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'stale-lease' });
    await store.addFeedback('t1', { note: 'n' });

    expect(await requests(metrics)).toEqual({
      'task-store write ok': 1,
      'task-store write conflict': 1,
      'task-store admin ok': 1,
    });
    const duration = await metrics.externalRequestDuration.get();
    const counts = duration.values.filter((v) => v.metricName?.endsWith('_count'));
    expect(counts.map((v) => [v.labels.kind, v.value]).sort()).toEqual([
      ['admin', 1],
      ['write', 2],
    ]);
    // Calls really reached the store, once each.
    expect(inner.calls.map((c) => c.method)).toEqual(['heartbeat', 'completeTask', 'addFeedback']);
  });
});
