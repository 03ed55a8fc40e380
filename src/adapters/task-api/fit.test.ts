import { describe, expect, it } from '@jest/globals';
import { TASK_API_LIMITS } from '../../domain/task-limits.js';
import { unstorableReason } from '../../domain/task-text.js';
import { clampToRange, fitError, fitUrl } from './fit.js';

describe('fitting writes to the Task API', () => {
  it('never cuts a surrogate pair in half', () => {
    for (let pad = 0; pad < 4; pad += 1) {
      const message = `${'x'.repeat(TASK_API_LIMITS.errorMessageMax - 40 + pad)}${'😀'.repeat(100)}`;
      const fitted = fitError({ category: 'c', code: 'k', message }).message;
      expect(fitted.length).toBeLessThanOrEqual(TASK_API_LIMITS.errorMessageMax);
      expect(unstorableReason(fitted)).toBeUndefined();
    }
  });

  it('gives blank or unprintable parts a value the API accepts', () => {
    expect(fitError({ category: '', code: ' ', message: '\n' })).toEqual({
      category: 'unknown',
      code: 'unknown',
      message: '(no message)',
    });
  });

  it('clamps into range and treats a non-number as the minimum', () => {
    expect(clampToRange(1_000, TASK_API_LIMITS.claim)).toBe(100);
    expect(clampToRange(0, TASK_API_LIMITS.claim)).toBe(1);
    expect(clampToRange(Number.NaN, TASK_API_LIMITS.leaseMs)).toBe(1_000);
    expect(clampToRange(2 ** 40, TASK_API_LIMITS.leaseMs)).toBe(3_600_000);
  });

  it('keeps only URLs the API accepts', () => {
    expect(fitUrl('https://codegen.com/run/1')).toBe('https://codegen.com/run/1');
    expect(fitUrl('https://codegen.com/run/\u001b[2J')).toBeUndefined();
    expect(fitUrl('javascript:alert(1)')).toBeUndefined();
    expect(fitUrl(undefined)).toBeUndefined();
  });
});
