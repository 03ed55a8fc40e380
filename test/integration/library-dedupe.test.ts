/**
 * The library's task creation carries the dedupe key: processTask adds the task with it, and a second task with
 * the same key while the first is live is refused with DuplicateTaskError naming the live task (processBatch
 * reports it per task). A client without credentials is a dry run over an in-memory store: no network.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CodegenClient, DuplicateTaskError } from '../../src/index.js';

describe('dedupe keys through the library', () => {
  let client: CodegenClient;
  beforeAll(async () => {
    client = new CodegenClient({});
    await client.initialize();
  });
  afterAll(async () => {
    await client?.shutdown();
  });

  it('adds the task with its key and refuses another while it is live', async () => {
    const first = await client.processTask({
      id: 'lib-dd-1',
      title: 'Fix issue 9',
      description: 'd',
      dedupeKey: 'issue:acme/web#9',
    });
    expect(first).toMatchObject({ taskId: 'lib-dd-1', dryRun: true, status: 'pending' });
    expect((await client.taskStore.getTask('lib-dd-1'))!.dedupeKey).toBe('issue:acme/web#9');

    const again = { title: 'Fix issue 9 again', description: 'd', dedupeKey: 'issue:acme/web#9' };
    const refusal = await client.processTask(again).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DuplicateTaskError);
    expect(refusal).toMatchObject({ code: 'task-duplicate', existingTaskId: 'lib-dd-1' });
    const [result] = await client.processBatch([again]);
    expect(result).toMatchObject({ success: false, error: { code: 'task-duplicate', category: 'conflict' } });
    expect(result!.error!.message).toContain('lib-dd-1');
  });
});
