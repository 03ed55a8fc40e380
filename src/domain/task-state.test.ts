import { describe, expect, it } from '@jest/globals';
import { DaemonError } from './errors.js';
import {
  assertTransition,
  canTransition,
  CLAIMABLE_STATUSES,
  LEASED_STATUSES,
  leasedSourcesOf,
  nextStatuses,
  sourcesOf,
} from './task-state.js';
import { TASK_STATUSES, TERMINAL_STATUSES, type TaskStatus } from './task.js';

const allowed: Array<[TaskStatus, TaskStatus]> = [
  ['pending', 'claimed'],
  ['retry', 'claimed'],
  ['claimed', 'claimed'],
  ['awaiting_agent', 'claimed'],
  ['claimed', 'awaiting_agent'],
  ['claimed', 'completed'],
  ['claimed', 'failed'],
  ['claimed', 'retry'],
  ['claimed', 'pending'],
  ['awaiting_agent', 'completed'],
  ['awaiting_agent', 'failed'],
  ['awaiting_agent', 'retry'],
  ['awaiting_agent', 'pending'],
  ['failed', 'pending'],
  ['cancelled', 'pending'],
  ['pending', 'cancelled'],
  ['retry', 'cancelled'],
  ['claimed', 'cancelled'],
  ['awaiting_agent', 'cancelled'],
];

describe('task state machine', () => {
  it('allows exactly the documented transitions', () => {
    const expected = new Set(allowed.map(([from, to]) => `${from}->${to}`));
    for (const from of TASK_STATUSES) {
      for (const to of TASK_STATUSES) {
        expect([`${from}->${to}`, canTransition(from, to)]).toEqual([`${from}->${to}`, expected.has(`${from}->${to}`)]);
      }
    }
  });

  it('lets nothing leave completed, and terminal states only back to pending', () => {
    expect(nextStatuses('completed')).toEqual([]);
    for (const status of TERMINAL_STATUSES) {
      expect(nextStatuses(status).every((to) => to === 'pending')).toBe(true);
      expect(canTransition(status, 'cancelled')).toBe(false);
    }
  });

  it('derives the statuses a write may start from', () => {
    expect(sourcesOf('cancelled').sort()).toEqual(['awaiting_agent', 'claimed', 'pending', 'retry']);
    expect(sourcesOf('claimed').sort()).toEqual([...CLAIMABLE_STATUSES].sort());
    expect(leasedSourcesOf('completed')).toEqual(['claimed', 'awaiting_agent']);
    expect(leasedSourcesOf('pending')).toEqual(['claimed', 'awaiting_agent']);
    expect(leasedSourcesOf('awaiting_agent')).toEqual(['claimed']);
    expect(LEASED_STATUSES).toEqual(['claimed', 'awaiting_agent']);
  });

  it('throws invalid-transition (conflict) naming the task and both states', () => {
    expect(() => assertTransition('pending', 'claimed', 't1')).not.toThrow();
    let thrown: unknown;
    try {
      assertTransition('completed', 'pending', 't1');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DaemonError);
    expect(thrown).toMatchObject({
      code: 'invalid-transition',
      category: 'conflict',
      retryable: false,
      message: 'task t1: cannot move from completed to pending',
    });
  });
});
