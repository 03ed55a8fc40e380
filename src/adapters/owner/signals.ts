/**
 * The in-process "tasks added" signal of a store: the scheduler subscribes to it so a task added through the
 * owner (by this process, or by the CLI or another process through the owner's endpoint) is claimed at once
 * instead of at the next poll. A listener's failure never reaches the caller that added the tasks.
 */
import type { Task } from '../../domain/task.js';
import type { Logger } from '../../observability/logger.js';
import type { TaskStore } from '../../pipeline/ports.js';

export type TasksAddedListener = (tasks: Task[]) => void;

/** Subscribe to tasks added through a store; returns the unsubscribe function. */
export interface TasksAddedSignal {
  onTasksAdded(listener: TasksAddedListener): () => void;
}

/** A signal and the function that fires it. */
export function createTasksAddedSignal(logger: Logger): TasksAddedSignal & { emit(tasks: Task[]): void } {
  const listeners = new Set<TasksAddedListener>();
  return {
    onTasksAdded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(tasks) {
      if (tasks.length === 0) return;
      for (const listener of [...listeners]) {
        try {
          listener(tasks);
        } catch (err) {
          logger.warn({ err }, 'a tasks-added listener failed');
        }
      }
    },
  };
}

/**
 * `store` with addTasks reporting what it added to `emit` once it is committed, and retryTask and releaseTask
 * the task they put back in the queue: each makes a task claimable now.
 */
export function emittingAdds(store: TaskStore, emit: (tasks: Task[]) => void): TaskStore {
  return {
    ...store,
    async addTasks(tasks, actor, signal) {
      const added = await store.addTasks(tasks, actor, signal);
      emit(added);
      return added;
    },
    async retryTask(taskId, actor, signal) {
      const task = await store.retryTask(taskId, actor, signal);
      emit([task]);
      return task;
    },
    async releaseTask(taskId, token, signal) {
      await store.releaseTask(taskId, token, signal);
      // Rare (shutdown, an outage): one read to say which task came back is cheap.
      const task = await store.getTask(taskId, signal).catch(() => undefined);
      if (task) emit([task]);
    },
  };
}
