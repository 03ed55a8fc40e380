import { describe, expect, it } from '@jest/globals';
import { DaemonEvents } from './events.js';
import { countRecoveries } from './stats.js';

describe('countRecoveries', () => {
  it('counts a task completed on a later attempt, not one completed first time or failed again', () => {
    const events = new DaemonEvents();
    let recovered = 0;
    const stop = countRecoveries(events, { inc: () => (recovered += 1) });
    const error = { code: 'codegen-5xx', category: 'server', message: 'boom' };

    events.emit('task_claimed', { taskId: 'first-time', attempt: 1 });
    events.emit('task_completed', { taskId: 'first-time', durationMs: 5 });
    events.emit('task_claimed', { taskId: 'recovers', attempt: 2 });
    events.emit('task_completed', { taskId: 'recovers', durationMs: 5 });
    events.emit('task_claimed', { taskId: 'fails-again', attempt: 3 });
    events.emit('task_failed', { taskId: 'fails-again', error, willRetry: false, durationMs: 5 });
    events.emit('task_completed', { taskId: 'fails-again', durationMs: 5 });
    events.emit('task_claimed', { taskId: 'released', attempt: 2 });
    events.emit('task_released', { taskId: 'released', reason: 'shutdown' });
    events.emit('task_completed', { taskId: 'released', durationMs: 5 });
    expect(recovered).toBe(1);

    stop();
    events.emit('task_claimed', { taskId: 'after-stop', attempt: 2 });
    events.emit('task_completed', { taskId: 'after-stop', durationMs: 5 });
    expect(recovered).toBe(1);
  });
});
