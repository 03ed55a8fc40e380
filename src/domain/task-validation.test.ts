import { describe, expect, it } from '@jest/globals';
import type { Task } from './task.js';
import { TASK_LIMITS, validateNewTask, validateStoredTask } from './task-validation.js';

const fieldsOf = (input: unknown) => {
  const result = validateNewTask(input);
  return result.ok ? [] : result.errors.map((e) => e.field);
};

describe('validateNewTask', () => {
  it('accepts a minimal task and leaves optional fields out', () => {
    expect(validateNewTask({ title: ' Fix it ', description: 'Details' })).toEqual({
      ok: true,
      task: { title: 'Fix it', description: 'Details' },
    });
  });

  it('accepts and cleans a full task', () => {
    const result = validateNewTask({
      id: 'TASK-42_a',
      title: 'Add search',
      description: 'Full text',
      type: 'feature',
      priority: 'critical',
      labels: ['search', ' search ', 'ui'],
      repository: 'acme/web.site',
      maxAttempts: 20,
      context: { files: ['a.ts'] },
    });
    expect(result).toEqual({
      ok: true,
      task: {
        id: 'TASK-42_a',
        title: 'Add search',
        description: 'Full text',
        type: 'feature',
        priority: 'critical',
        labels: ['search', 'ui'],
        repository: 'acme/web.site',
        maxAttempts: 20,
        context: { files: ['a.ts'] },
      },
    });
  });

  it('reports every problem at once, by field', () => {
    const result = validateNewTask({
      id: '../etc',
      title: '   ',
      type: 'chore',
      priority: 'urgent',
      labels: ['ok', 3, ''],
      repository: 'just-a-name',
      maxAttempts: 0,
      context: ['not', 'an', 'object'],
      colour: 'blue',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.field)).toEqual([
      'colour',
      'title',
      'description',
      'id',
      'type',
      'priority',
      'labels[1]',
      'labels[2]',
      'repository',
      'maxAttempts',
      'context',
    ]);
    expect(result.errors.find((e) => e.field === 'description')!.message).toBe('is required');
    expect(result.errors.find((e) => e.field === 'priority')!.message).toMatch(/one of low, medium, high, critical/);
    expect(result.errors.find((e) => e.field === 'maxAttempts')!.message).toBe(
      'must be a whole number from 1 to 20, got 0',
    );
  });

  it('enforces the size limits', () => {
    expect(fieldsOf({ title: 'x'.repeat(TASK_LIMITS.titleMax + 1), description: 'd' })).toEqual(['title']);
    expect(fieldsOf({ title: 't', description: 'd'.repeat(TASK_LIMITS.descriptionMax + 1) })).toEqual(['description']);
    expect(fieldsOf({ title: 't', description: 'd', labels: Array.from({ length: 51 }, (_, i) => `l${i}`) })).toEqual([
      'labels',
    ]);
    expect(fieldsOf({ title: 't', description: 'd', labels: ['x'.repeat(51)] })).toEqual(['labels[0]']);
    expect(fieldsOf({ title: 't', description: 'd', context: { big: 'x'.repeat(TASK_LIMITS.contextMax) } })).toEqual([
      'context',
    ]);
    expect(fieldsOf({ title: 't', description: 'd', maxAttempts: 2.5 })).toEqual(['maxAttempts']);
    expect(fieldsOf({ title: 't', description: 'd', id: 'a'.repeat(81) })).toEqual(['id']);
  });

  it('refuses what is not an object, and wrong types', () => {
    expect(validateNewTask(null)).toEqual({
      ok: false,
      errors: [{ field: '(task)', message: 'must be an object, got null' }],
    });
    expect(fieldsOf([])).toEqual(['(task)']);
    expect(fieldsOf({ title: 5, description: true, labels: 'bug' })).toEqual(['title', 'description', 'labels']);
  });
});

describe('validateStoredTask', () => {
  const sound: Task = {
    id: 't-1',
    title: 'Title',
    description: 'Description',
    type: 'bugfix',
    priority: 'high',
    labels: ['a'],
    repository: 'acme/web',
    status: 'claimed',
    attempts: 1,
    maxAttempts: 3,
    checkpoint: {},
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  };

  it('finds nothing wrong with a sound task', () => {
    expect(validateStoredTask(sound)).toEqual([]);
  });

  it('names each problem of a malformed row', () => {
    const broken = {
      ...sound,
      id: 'has space',
      title: '',
      description: null,
      type: 'weird',
      priority: 7,
      labels: { a: 1 },
      repository: 'nope',
      context: 'text',
      maxAttempts: 0,
    } as unknown as Task;
    expect(validateStoredTask(broken)).toEqual([
      'id "has space" is not a valid task id (letters, digits, "_" or "-")',
      'title is missing or empty',
      'description is missing or empty',
      'type "weird" is not one of feature, bugfix, refactor, documentation, test, default',
      'priority 7 is not one of low, medium, high, critical',
      'labels must be a list of label names, got object',
      'repository "nope" is not "owner/repo"',
      'context must be an object, got "text"',
      'maxAttempts 0 is not a whole number of at least 1',
    ]);
  });
});
