import { describe, expect, it } from '@jest/globals';
import { DaemonError } from '../../domain/errors.js';
import { classifySqlError, classifyingClient } from './sql-errors.js';
import { decodeCursor, encodeCursor } from './task-row.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('classifySqlError', () => {
  it.each([
    ['08006', 'task-store-unavailable', 'network', true],
    ['57P01', 'task-store-unavailable', 'network', true],
    ['40P01', 'task-store-contention', 'server', true],
    ['57014', 'task-store-timeout', 'timeout', true],
    ['28P01', 'task-store-auth', 'authentication', false],
    ['42P01', 'task-store-misconfigured', 'configuration', false],
    ['23505', 'task-store-rejected', 'conflict', false],
    ['22P02', 'task-store-rejected', 'validation', false],
    ['42601', 'task-store-failed', 'server', false],
  ])('maps SQLSTATE %s to %s', (state, code, category, retryable) => {
    const error = classifySqlError(withCode('boom', state));
    expect(error).toMatchObject({ code, category, retryable, dependency: 'task-store' });
    expect(error.message).toContain(`SQLSTATE ${state}`);
  });

  it('treats socket errors and nameless driver failures as retryable network trouble', () => {
    expect(classifySqlError(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toMatchObject({
      code: 'task-store-unreachable',
      category: 'network',
      retryable: true,
    });
    expect(classifySqlError(new Error('Connection terminated unexpectedly'))).toMatchObject({
      code: 'task-store-failed',
      retryable: true,
    });
  });

  it('passes DaemonErrors through and keeps bugs distinguishable', () => {
    const own = new DaemonError('x', { code: 'stale-lease', category: 'conflict' });
    expect(classifySqlError(own)).toBe(own);
    expect(classifySqlError(new TypeError('x is undefined'))).toMatchObject({
      code: 'task-store-bug',
      retryable: false,
    });
  });

  it('classifies failures leaving a wrapped client, including inside transactions', async () => {
    const failing = {
      query: async () => {
        throw withCode('gone', '57P01');
      },
      transaction: async <T>(fn: (tx: never) => Promise<T>) => fn(failing as never),
      close: async () => {},
    };
    const client = classifyingClient(failing);
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: 'task-store-unavailable' });
    await expect(client.transaction((tx) => tx.query('SELECT 1'))).rejects.toMatchObject({
      code: 'task-store-unavailable',
    });
  });
});

describe('page cursors', () => {
  it('round-trip and refuse anything else', () => {
    const cursor = encodeCursor({ cursor_at: '2024-05-01T10:00:00.123456Z', cursor_seq: '42' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ at: '2024-05-01T10:00:00.123456Z', seq: '42' });
    for (const bad of [
      '',
      'not base64!',
      btoa('{"a":1}'),
      btoa('["x","1"]'),
      btoa('["2024-05-01T10:00:00Z","1; drop"]'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'invalid-cursor' }));
    }
  });
});
