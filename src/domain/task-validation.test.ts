import { describe, expect, it } from '@jest/globals';
import type { Task } from './task.js';
import { checkStoredTask, TASK_LIMITS, validateNewTask, validateStoredTask } from './task-validation.js';

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
      'id must be 1-80 letters, digits, "_" or "-", starting with a letter or digit',
      'title must not be empty',
      'description is required',
      'type "weird" is not one of feature, bugfix, refactor, documentation, test, default',
      'priority 7 is not one of low, medium, high, critical',
      'labels must be a list of label names, got object',
      'repository must be "owner/repo": one owner, one slash, one name',
      'context must be an object, got "text"',
      'maxAttempts must be a whole number of at least 1, got 0',
    ]);
  });

  it('holds a row written straight into the table to the caps and character rules of intake', () => {
    const fieldsOfRow = (overrides: Partial<Record<keyof Task, unknown>>) =>
      checkStoredTask({ ...sound, ...overrides } as Task).map((p) => p.field);
    expect(fieldsOfRow({ title: 'x'.repeat(TASK_LIMITS.titleMax + 1) })).toEqual(['title']);
    expect(fieldsOfRow({ title: 'red \u001b[31malert' })).toEqual(['title']);
    expect(fieldsOfRow({ title: 'abc\u202edef' })).toEqual(['title']);
    expect(fieldsOfRow({ description: 'd'.repeat(5_000_000) })).toEqual(['description']);
    expect(fieldsOfRow({ labels: ['ok', 'x'.repeat(51), 'bell\u0007'] })).toEqual(['labels[1]', 'labels[2]']);
    expect(fieldsOfRow({ labels: Array.from({ length: 51 }, (_, i) => `l${i}`) })).toEqual(['labels']);
    expect(fieldsOfRow({ repository: '../..' })).toEqual(['repository']);
    expect(fieldsOfRow({ repository: `acme/${'r'.repeat(101)}` })).toEqual(['repository']);
    expect(fieldsOfRow({ context: { big: 'x'.repeat(TASK_LIMITS.contextMax) } })).toEqual(['context']);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 5_000; i += 1) deep = { a: deep };
    expect(fieldsOfRow({ context: deep })).toEqual(['context']);
    // Descriptions are cleaned at intake, so a stored one with escapes is left to the prompt builder.
    expect(fieldsOfRow({ description: 'keeps \u001b[2J as stored' })).toEqual([]);
    expect(fieldsOfRow({ maxAttempts: 50 })).toEqual([]);
  });
});

describe('validateNewTask text rules', () => {
  it('refuses NUL, unpaired surrogates and control characters in one-line fields, naming the field', () => {
    expect(fieldsOf({ title: 'a\u0000b', description: 'd' })).toEqual(['title']);
    expect(fieldsOf({ title: 'a\ud800b', description: 'd' })).toEqual(['title']);
    expect(fieldsOf({ title: 'tab\there', description: 'd' })).toEqual(['title']);
    expect(fieldsOf({ title: '\u200bhidden', description: 'd' })).toEqual(['title']);
    expect(fieldsOf({ title: 't', description: 'd', labels: ['ok', '\u009b2J'] })).toEqual(['labels[1]']);
    expect(fieldsOf({ title: 't', description: 'a\u0000' })).toEqual(['description']);
    expect(fieldsOf({ title: 't', description: '\udc00' })).toEqual(['description']);
    expect(fieldsOf({ title: 't', description: 'd', context: { a: [{ b: 'x\u0000' }] } })).toEqual(['context.a[0].b']);
    expect(fieldsOf({ title: 't', description: 'd', context: { 'k\ud800': 1 } })).toEqual(['context']);
  });

  it('keeps tab and newline in a description and strips the rest, escape sequences whole', () => {
    const result = validateNewTask({
      title: 'Emoji 👍 are fine',
      description: 'line one\r\n\tindented \u001b[31mred\u001b[0m \u001b]52;c;ZXZpbA==\u0007done\u202e\u200b',
    });
    expect(result).toEqual({
      ok: true,
      task: { title: 'Emoji 👍 are fine', description: 'line one\n\tindented red done' },
    });
    expect(fieldsOf({ title: 't', description: '\u001b[2J\u0007' })).toEqual(['description']);
  });

  it('refuses context nested deeper than the documented limit without overflowing the stack', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i += 1) deep = { a: deep };
    expect(validateNewTask({ title: 't', description: 'd', context: deep })).toEqual({
      ok: false,
      errors: [{ field: 'context', message: 'must not nest objects and arrays more than 32 levels deep' }],
    });
    let ok: Record<string, unknown> = {};
    for (let i = 1; i < TASK_LIMITS.contextDepthMax; i += 1) ok = { a: ok };
    expect(fieldsOf({ title: 't', description: 'd', context: ok })).toEqual([]);
    expect(fieldsOf({ title: 't', description: 'd', context: { a: ok } })).toEqual(['context']);
  });

  it("holds repositories to GitHub's owner/name rules", () => {
    for (const bad of ['../..', './.', '-/-', 'acme/..', 'acme/.', '-acme/web', 'acme-/web', 'ac--me/web', 'a/b/c']) {
      expect([bad, fieldsOf({ title: 't', description: 'd', repository: bad })]).toEqual([bad, ['repository']]);
    }
    expect(fieldsOf({ title: 't', description: 'd', repository: `${'o'.repeat(40)}/web` })).toEqual(['repository']);
    expect(fieldsOf({ title: 't', description: 'd', repository: `${'o'.repeat(39)}/${'r'.repeat(100)}` })).toEqual([]);
    expect(fieldsOf({ title: 't', description: 'd', repository: 'a-b-c/.github' })).toEqual([]);
  });
});
