/**
 * What one task's leased writes cost the SQL store in round trips: each state-changing write (run intent, agent
 * run, pull request, completion, failure, release) is one statement with its history row, not a transaction of
 * BEGIN / UPDATE / INSERT / COMMIT. Counted on a SqlClient that records what it is asked to run, over PGlite and
 * (with DATABASE_URL) PostgreSQL. Fencing itself is covered by task-store-leases.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createPostgresClient,
  createSqlTaskStore,
  migrate,
  type SqlClient,
} from '../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../src/adapters/task-store/pglite.js';
import type { TaskStore } from '../../src/pipeline/ports.js';
import { DATABASE_URL, uniqueSchema } from './helpers/store-backends.js';

/** `sql`, recording every statement and every transaction begun on it (or on a transaction's client). */
function counting(sql: SqlClient) {
  const log = { statements: [] as string[], transactions: 0 };
  const wrap = (inner: SqlClient): SqlClient => ({
    query: (text, params, signal) => {
      log.statements.push(text.trim().split(/\s+/)[0]!.toUpperCase());
      return inner.query(text, params, signal);
    },
    transaction: (fn, signal) => {
      log.transactions += 1;
      return inner.transaction((tx) => fn(wrap(tx)), signal);
    },
    close: () => inner.close(),
  });
  return { sql: wrap(sql), log };
}

interface Backend {
  name: string;
  open(): Promise<{ raw: SqlClient; schema: string; drop: boolean }>;
}

const backends: Backend[] = [
  {
    name: 'pglite',
    open: async () => {
      const raw = await openPgliteClient('memory://');
      await migrate(raw);
      return { raw, schema: 'codegen_pr', drop: false };
    },
  },
  ...(DATABASE_URL
    ? [
        {
          name: 'postgres',
          open: async () => {
            const schema = uniqueSchema('leased_statements');
            const raw = createPostgresClient({ connectionString: DATABASE_URL!, poolSize: 2 });
            await migrate(raw, { schema });
            return { raw, schema, drop: true };
          },
        },
      ]
    : []),
];

describe.each(backends)('leased writes on $name', (backend) => {
  let raw: SqlClient;
  let schema: string;
  let drop: boolean;
  let store: TaskStore;
  let log: ReturnType<typeof counting>['log'];

  beforeAll(async () => {
    ({ raw, schema, drop } = await backend.open());
    const counted = counting(raw);
    log = counted.log;
    store = createSqlTaskStore(counted.sql, { schema });
  }, 180_000);
  afterAll(async () => {
    if (drop) await raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await store?.close();
  });

  /** Statements and transactions `fn` ran. */
  const measure = async (fn: () => Promise<unknown>) => {
    log.statements.length = 0;
    log.transactions = 0;
    await fn();
    return { statements: [...log.statements], transactions: log.transactions };
  };

  const historyOf = async (id: string) =>
    (
      await raw.query<{ actor: string; kind: string; from_status: string | null; to_status: string | null }>(
        `SELECT actor, kind, from_status, to_status FROM "${schema}".task_events WHERE task_id = $1 ORDER BY id`,
        [id],
      )
    ).rows;

  it('writes each checkpoint and the completion in one statement, history row included', async () => {
    await store.addTasks([{ id: 'one-statement', title: 't', description: 'd' }]);
    const [claim] = await store.claimTasks({ worker: 'w1', limit: 1, leaseMs: 60_000, taskIds: ['one-statement'] });
    const token = claim!.lease.token;
    const pr = { url: 'https://github.com/acme/widgets/pull/1', number: 1, branch: 'b', state: 'open' as const };
    const writes = [
      () => store.recordRunIntent('one-statement', token, 'nonce-12345678'),
      () => store.recordAgentRun('one-statement', token, { id: 42, url: 'https://codegen.com/run/42' }),
      () => store.recordPullRequest('one-statement', token, pr),
      () => store.completeTask('one-statement', token, { pr }),
    ];
    for (const write of writes) {
      expect(await measure(write)).toEqual({ statements: ['WITH'], transactions: 0 });
    }
    expect((await historyOf('one-statement')).map((e) => [e.kind, e.from_status, e.to_status])).toEqual([
      ['created', null, 'pending'],
      ['claimed', 'pending', 'claimed'],
      ['run-intent', 'claimed', 'claimed'],
      ['agent-run-recorded', 'claimed', 'awaiting_agent'],
      ['pr-recorded', 'awaiting_agent', 'awaiting_agent'],
      ['completed', 'awaiting_agent', 'completed'],
    ]);
  });

  it('names the history row of a failure by the status it led to, in one statement', async () => {
    await store.addTasks([{ id: 'fail-once', title: 't', description: 'd', maxAttempts: 2 }]);
    const [claim] = await store.claimTasks({ worker: 'w1', limit: 1, leaseMs: 60_000, taskIds: ['fail-once'] });
    const error = { category: 'network' as const, code: 'codegen-unreachable', message: 'ECONNRESET' };
    const retryAt = new Date(Date.now() + 60_000).toISOString();
    const failed = await measure(() => store.failTask('fail-once', claim!.lease.token, { error, retryAt }));
    expect(failed).toEqual({ statements: ['WITH'], transactions: 0 });
    expect((await historyOf('fail-once')).at(-1)).toEqual({
      actor: 'w1',
      kind: 'retry-scheduled',
      from_status: 'claimed',
      to_status: 'retry',
    });
  });

  it('writes no history row for a refused write, and explains the refusal', async () => {
    await store.addTasks([{ id: 'refused', title: 't', description: 'd' }]);
    await store.claimTasks({ worker: 'w1', limit: 1, leaseMs: 60_000, taskIds: ['refused'] });
    const before = (await historyOf('refused')).length;
    await expect(store.completeTask('refused', '00000000-0000-4000-8000-000000000000', {})).rejects.toMatchObject({
      code: 'stale-lease',
    });
    expect((await historyOf('refused')).length).toBe(before);
  });
});
