/**
 * The two queues the claim benchmark compares, behind one small interface: our PostgreSQL task store
 * (claimTasks, which also writes one history row per claim) and pg-boss 10 (fetch). Each lives in a schema of its
 * own that `close()` drops. Filling and emptying are not timed; only `claim` is.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { openPostgresTaskStore } from '../src/adapters/task-store/index.js';
import type { NewTask, TaskPriority } from '../src/domain/task.js';
import type { TaskStore } from '../src/pipeline/ports.js';

/** One queue under test. */
export interface Contender {
  readonly name: string;
  /** Empty the queue completely and put `count` fresh items in it, then ANALYZE (not timed). */
  refill(count: number): Promise<void>;
  /** Claim up to `batch` items as `worker`; resolves to how many were claimed (0: nothing claimable). */
  claim(worker: string, batch: number): Promise<number>;
  /** Items still claimable: must be 0 after a measurement, or the loop stopped early. */
  remaining(): Promise<number>;
  /** Drop the schema and close every connection. */
  close(): Promise<void>;
}

/** Same pool size for both, so neither wins by holding more connections. */
export const POOL_SIZE = 10;
const PRIORITIES: readonly TaskPriority[] = ['low', 'medium', 'high', 'critical'];
/** pg-boss claims the highest number first; ours claims critical first. Same order for the same items. */
const BOSS_PRIORITY: Record<TaskPriority, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The i-th item of a run: priorities cycle so both queues really have to order by priority, then age. */
function item(i: number): { title: string; description: string; priority: TaskPriority } {
  return {
    title: `Benchmark task ${i}`,
    description: `Add a unit test for module ${i % 97} covering the error path; keep the change small.`,
    priority: PRIORITIES[i % PRIORITIES.length] ?? 'medium',
  };
}

/** Split 0..count-1 into one chunk per pooled connection, so refilling (untimed) keeps the pool busy. */
function chunks(count: number): number[][] {
  const size = Math.max(50, Math.ceil(count / POOL_SIZE));
  const out: number[][] = [];
  for (let start = 0; start < count; start += size) {
    out.push(Array.from({ length: Math.min(size, count - start) }, (_, k) => start + k));
  }
  return out;
}

/** Our store, opened through the same function the daemon uses. `admin` runs the untimed housekeeping SQL. */
export async function openOurs(connectionString: string, schema: string, admin: pg.Pool): Promise<Contender> {
  const store: TaskStore = await openPostgresTaskStore({ connectionString, schema, poolSize: POOL_SIZE });
  return {
    name: 'codegen-pr',
    async refill(count) {
      await admin.query(`TRUNCATE ${schema}.tasks, ${schema}.task_events`);
      // Through addTasks, so rows look exactly as the store writes them; chunks in parallel keep setup short.
      await Promise.all(
        chunks(count).map((ids) =>
          store.addTasks(
            ids.map((i): NewTask => ({ ...item(i), type: 'test' })),
            'bench',
          ),
        ),
      );
      await admin.query(`ANALYZE ${schema}.tasks, ${schema}.task_events`);
    },
    async claim(worker, batch) {
      const claimed = await store.claimTasks({ worker, limit: batch, leaseMs: 600_000 });
      return claimed.length;
    },
    async remaining() {
      const counts = await store.countByStatus();
      return (counts.pending ?? 0) + (counts.retry ?? 0);
    },
    async close() {
      try {
        await store.close();
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    },
  };
}

/**
 * pg-boss with its background work off (no supervisor, no cron): only fetch touches the queue while we time it.
 * Every refill uses a new queue, so each measurement starts on a fresh partition with no dead rows, like
 * TRUNCATE gives ours.
 */
export async function openPgBoss(connectionString: string, schema: string, admin: pg.Pool): Promise<Contender> {
  const boss = new PgBoss({ connectionString, schema, max: POOL_SIZE, supervise: false, schedule: false });
  const errors: Error[] = [];
  boss.on('error', (error) => errors.push(error));
  await boss.start();
  let generation = 0;
  let queue = '';
  return {
    name: 'pg-boss',
    async refill(count) {
      if (queue) {
        // delete_queue refuses while the partition still holds (active) jobs: empty it first.
        await admin.query(`DELETE FROM ${schema}.job WHERE name = $1`, [queue]);
        await boss.deleteQueue(queue);
      }
      generation += 1;
      queue = `bench-${generation}`;
      await boss.createQueue(queue);
      await Promise.all(
        chunks(count).map((ids) =>
          boss.insert(
            ids.map((i) => {
              const { priority, ...data } = item(i);
              return { name: queue, data, priority: BOSS_PRIORITY[priority] };
            }),
          ),
        ),
      );
      await admin.query(`ANALYZE ${schema}.job`);
    },
    async claim(_worker, batch) {
      // fetch swallows query errors and returns [] (see pg-boss manager.fetch): remaining() catches that.
      const jobs = await boss.fetch(queue, { batchSize: batch, priority: true });
      return jobs.length;
    },
    async remaining() {
      if (errors.length > 0) throw errors[0];
      return boss.getQueueSize(queue);
    },
    async close() {
      try {
        await boss.stop({ graceful: false, close: true });
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    },
  };
}
