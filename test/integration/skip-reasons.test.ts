/**
 * A test file skipped as a whole says why in the test run's output (test/skip-reasons-reporter.cjs): jest's own
 * report shows nothing for it, not even the reason the file logged.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const require = createRequire(path.resolve('package.json'));
const { skipReasonLines } = require('./test/skip-reasons-reporter.cjs') as {
  skipReasonLines: (result: object, rootDir: string) => string[];
};

const result = (skipped: boolean, console?: Array<{ type: string; message: string }>) => ({
  skipped,
  testFilePath: path.resolve('test/e2e/x.e2e.test.ts'),
  console,
});

describe('skip reasons', () => {
  it('are the messages a skipped file logged, or a note that it gave none', () => {
    const root = path.resolve('.');
    expect(skipReasonLines(result(true, [{ type: 'warn', message: 'x: set DATABASE_URL' }]), root)).toEqual([
      'skipped test/e2e/x.e2e.test.ts: x: set DATABASE_URL',
    ]);
    expect(skipReasonLines(result(true), root)).toEqual(['skipped test/e2e/x.e2e.test.ts: no reason given']);
    expect(skipReasonLines(result(false, [{ type: 'warn', message: 'ran' }]), root)).toEqual([]);
  });

  it('appear in a real run of a suite skipped for lack of DATABASE_URL', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '--experimental-vm-modules' };
    delete env.DATABASE_URL;
    const stderr = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [path.resolve('node_modules/jest/bin/jest.js'), 'test/e2e/replicas.e2e.test.ts'],
        { env, timeout: 120_000 },
        (_error, _stdout, err) => resolve(err),
      );
    });
    expect(stderr).toContain('skipped test/e2e/replicas.e2e.test.ts: replicas.e2e: skipped: set DATABASE_URL');
  }, 150_000);
});
