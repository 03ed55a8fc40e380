import { describe, expect, it } from '@jest/globals';
import { classifyRunStatus, isFinalRunState } from './status.js';

describe('classifyRunStatus', () => {
  it.each([
    ['COMPLETE', 'succeeded'],
    ['COMPLETED', 'succeeded'],
    ['completed', 'succeeded'],
    ['Complete', 'succeeded'],
    ['ERROR', 'failed'],
    ['FAILED', 'failed'],
    ['failed', 'failed'],
    ['CANCELLED', 'failed'],
    ['STOPPED', 'failed'],
    ['TIMEOUT', 'failed'],
    ['MAX_ITERATIONS_REACHED', 'failed'],
    ['OUT_OF_TOKENS', 'failed'],
    ['ACTIVE', 'in_progress'],
    ['RUNNING', 'in_progress'],
    ['PENDING', 'in_progress'],
    ['EVALUATION', 'in_progress'],
    ['QUEUED', 'in_progress'],
    ['queued', 'in_progress'],
    ['IN_PROGRESS', 'in_progress'],
    ['in_progress', 'in_progress'],
    ['PAUSED', 'paused'],
    ['paused', 'paused'],
    [' complete ', 'succeeded'],
  ] as const)('%s -> %s', (status, state) => {
    expect(classifyRunStatus(status)).toBe(state);
  });

  it('treats null, empty and unheard-of statuses as unknown, never as success', () => {
    expect(classifyRunStatus(null)).toBe('unknown');
    expect(classifyRunStatus('')).toBe('unknown');
    expect(classifyRunStatus('SUCCESS_MAYBE')).toBe('unknown');
    expect(classifyRunStatus('COMPLETE_WITH_ERRORS')).toBe('unknown');
  });
});

describe('isFinalRunState', () => {
  it('is true only for succeeded and failed', () => {
    expect(isFinalRunState('succeeded')).toBe(true);
    expect(isFinalRunState('failed')).toBe(true);
    expect(isFinalRunState('paused')).toBe(false);
    expect(isFinalRunState('in_progress')).toBe(false);
    expect(isFinalRunState('unknown')).toBe(false);
  });
});
