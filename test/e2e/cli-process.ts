/**
 * Runs the built CLI (dist/src/main.js) as a child process in a given working directory, the way a user types
 * `codegen-pr tasks ...` in a second terminal beside a running daemon.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const MAIN = path.resolve('dist/src/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `codegen-pr <args>` in `cwd` with `env` (and PATH); resolves when it exits, whatever its code. */
export function runCli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The line of `stdout` that names task `id`, or undefined. */
export function lineOf(stdout: string, id: string): string | undefined {
  return stdout.split('\n').find((line) => line.split(/\s+/).includes(id));
}
