/**
 * Where a CodegenClient used as a library keeps its tasks. It must not create ./data in the caller's working
 * directory unless asked: by default its embedded store is in memory; taskStore.dataDir puts it on disk, where it
 * lasts from one client to the next. The daemon and the CLI (which pass `env`) keep ./data.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CodegenClient } from '../../src/client.js';

describe('the library store location', () => {
  const home = process.cwd();
  let caller: string;

  beforeAll(() => {
    // The caller's project directory; restored after (test files in one worker run one after another).
    caller = mkdtempSync(path.join(tmpdir(), 'codegen-pr-caller-'));
    process.chdir(caller);
  });
  afterAll(() => {
    process.chdir(home);
    rmSync(caller, { recursive: true, force: true });
  });

  it('keeps tasks in memory by default and writes nothing into the caller’s directory', async () => {
    const client = new CodegenClient({});
    await client.initialize();
    await client.taskStore.addTasks([{ id: 'lib-1', title: 'In memory', description: 'd' }]);
    expect(client.getStatus().store).toMatchObject({ kind: 'sqlite', where: 'memory://' });
    await client.shutdown();
    expect(readdirSync(caller)).toEqual([]);
  });

  it('puts the store where taskStore.dataDir says, and it lasts from one client to the next', async () => {
    const dataDir = path.join(caller, 'my-tasks');
    const first = new CodegenClient({ taskStore: { dataDir } });
    await first.initialize();
    await first.taskStore.addTasks([{ id: 'kept', title: 'On disk', description: 'd' }]);
    await first.shutdown();
    expect(existsSync(path.join(dataDir, 'codegen-pr.db'))).toBe(true);

    const second = new CodegenClient({ taskStore: { dataDir } });
    await second.initialize();
    expect(await second.taskStore.getTask('kept')).toMatchObject({ status: 'pending', title: 'On disk' });
    await second.shutdown();
    expect(existsSync(path.join(caller, 'data'))).toBe(false);
  });

  it('keeps ./data for the daemon and the CLI, which read the environment', () => {
    const daemonLike = new CodegenClient({}, { env: {} });
    expect(daemonLike.config.taskStore.dataDir).toBe('./data');
  });
});
