/**
 * Runs the built daemon (dist/src/main.js) as a child process, the way a user runs it, and reads its JSON log
 * lines. Used by the end-to-end tests; every process started here is killed by stop() or killAll().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// E2E_DAEMON_MAIN runs another build (an older commit's dist, say) against the same tests, to show a test
// fails for the reason it names before the fix it guards.
const MAIN = path.resolve(process.env.E2E_DAEMON_MAIN ?? 'dist/src/main.js');
const running = new Set<ChildProcess>();

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface DaemonProcess {
  child: ChildProcess;
  logs: LogLine[];
  stderr: string[];
  /** Resolves with the first log line (past or future) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The URL of the daemon's HTTP endpoint, from its startup log. */
  httpUrl(): Promise<string>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function startDaemon(
  env: Record<string, string>,
  args: string[] = ['run'],
  options: { cwd?: string } = {},
): DaemonProcess {
  // A fresh working directory unless the test shares one (its ./data) with other processes: no .env, no
  // config/, no ./data of the developer's leak in.
  const cwd = options.cwd ?? mkdtempSync(path.join(tmpdir(), 'codegen-pr-e2e-'));
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let buffer = '';
  // E2E_LOG_DIR keeps every daemon's log for a look after a failed run (one file per process).
  const keep = process.env.E2E_LOG_DIR
    ? createWriteStream(path.join(process.env.E2E_LOG_DIR, `daemon-${child.pid ?? 'x'}.log`))
    : undefined;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    keep?.write(chunk);
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const raw = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { level: 30, msg: raw };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.predicate(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  // 'close', not 'exit': it comes after the last of stdout has been read, so `logs` is whole once the daemon has exited.
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      keep?.end();
      resolve(code ?? signal ?? -1);
    });
  });

  const waitForLog = (predicate: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const past = logs.find(predicate);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const entry = { predicate, resolve: (l: LogLine) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        waiters.delete(entry);
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('')}; last logs: ${JSON.stringify(logs.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      waiters.add(entry);
    });
  };

  return {
    child,
    logs,
    stderr,
    waitForLog,
    httpUrl: async () => String((await waitForLog((l) => l.msg === 'HTTP endpoint up')).url),
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Kills every daemon still running (afterAll safety net). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
