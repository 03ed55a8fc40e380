import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../observability/logger.js';
import { makeTask } from '../../../test/fakes/memory-ports.js';
import type { TaskStore } from '../../pipeline/ports.js';
import { createTasksAddedSignal, emittingAdds } from './signals.js';

describe('the in-process tasks-added signal', () => {
  it('fires for a task put back in the queue by retry or release, as for one added', async () => {
    const signal = createTasksAddedSignal(silentLogger());
    const heard: string[][] = [];
    signal.onTasksAdded((tasks) => heard.push(tasks.map((t) => t.id)));
    const inner = {
      addTasks: async () => [makeTask({ id: 'a' })],
      retryTask: async () => makeTask({ id: 'r', status: 'pending' }),
      releaseTask: async () => undefined,
      getTask: async (id: string) => makeTask({ id, status: 'pending' }),
    } as unknown as TaskStore;
    const store = emittingAdds(inner, signal.emit);
    await store.addTasks([{ id: 'a', title: 'a', description: 'a' }]);
    await store.retryTask('r');
    await store.releaseTask('l', 'token');
    expect(heard).toEqual([['a'], ['r'], ['l']]);
  });
});
