/**
 * What the status page shows, read from the store: bounded queries only (live rows, LIMITed lists, the
 * replicas' reports). Works on any TaskStore; the parts that need the store's operations (the live snapshot,
 * tasks in flight with their worker, replicas, operator actions) are left out when the store has none.
 */
import type {
  InFlightTask,
  OperatorAction,
  QueueSnapshot,
  ReplicaRecord,
} from '../../adapters/task-store/operations.js';
import { storeOperations } from '../../adapters/task-store/operations.js';
import type { Task, TaskStatus } from '../../domain/task.js';
import type { TaskStore } from '../../pipeline/ports.js';

export interface Overview {
  now: number;
  snapshot?: QueueSnapshot;
  /** Counts by status from listTasks pages when the store has no snapshot. */
  counts?: Partial<Record<TaskStatus, number>>;
  inFlight: InFlightTask[];
  waiting: Task[];
  /** Pending tasks, newest first: what waits for a worker. */
  pending: Task[];
  failures: Array<{ category: string; tasks: Task[] }>;
  prsToday: Task[];
  replicas: ReplicaRecord[];
  actions: OperatorAction[];
}

/** Lists are cut at this many rows: the page stays fast whatever the store holds. */
export const LIST_LIMIT = 100;

export async function readOverview(store: TaskStore, now = Date.now()): Promise<Overview> {
  const ops = storeOperations(store);
  const [snapshot, inFlight, waiting, pending, failed, completed, replicas, actions] = await Promise.all([
    ops?.queueSnapshot(),
    ops ? ops.listInFlight(LIST_LIMIT) : Promise.resolve([]),
    store.listTasks({ status: 'retry', limit: LIST_LIMIT }),
    store.listTasks({ status: 'pending', limit: LIST_LIMIT }),
    store.listTasks({ status: 'failed', limit: LIST_LIMIT }),
    store.listTasks({ status: 'completed', limit: 200 }),
    ops ? ops.listReplicas(24 * 3_600_000) : Promise.resolve([]),
    ops ? ops.listOperatorActions(20) : Promise.resolve([]),
  ]);
  const groups = new Map<string, Task[]>();
  for (const task of failed.tasks) {
    const category = task.lastError?.category ?? 'unknown';
    groups.set(category, [...(groups.get(category) ?? []), task]);
  }
  const midnight = new Date(now);
  midnight.setUTCHours(0, 0, 0, 0);
  const prsToday = completed.tasks.filter(
    (task) => task.checkpoint.pr && Date.parse(task.updatedAt) >= midnight.getTime(),
  );
  return {
    now,
    ...(snapshot ? { snapshot } : { counts: await store.countByStatus() }),
    inFlight,
    waiting: waiting.tasks,
    pending: pending.tasks,
    failures: [...groups]
      .map(([category, tasks]) => ({ category, tasks }))
      .sort((a, b) => b.tasks.length - a.tasks.length),
    prsToday,
    replicas,
    actions,
  };
}

/** Suggestions the feedback handler left on a task (entries of kind `suggestions`), flattened. */
export function suggestionsOf(task: Task): string[] {
  const out: string[] = [];
  for (const entry of task.feedback ?? []) {
    if (!entry || typeof entry !== 'object') continue;
    const { suggestions } = entry as { suggestions?: unknown };
    const lists = Array.isArray(suggestions)
      ? [suggestions]
      : suggestions && typeof suggestions === 'object'
        ? Object.values(suggestions)
        : [];
    for (const list of lists) if (Array.isArray(list)) for (const s of list) if (typeof s === 'string') out.push(s);
  }
  return [...new Set(out)].slice(0, 10);
}
