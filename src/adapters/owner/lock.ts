/**
 * The owner lock of a data directory: an exclusive SQLite lock on `<dataDir>/owner.lock`, held by one process
 * for its whole life. SQLite takes it with the operating system's advisory file locks (fcntl on Linux and
 * macOS, LockFileEx on Windows), which the kernel drops when the process ends however it ends: a SIGKILLed or
 * crashed owner leaves no lock behind, unlike a PID file. SQLite also keeps the lock right between connections
 * of one process (plain fcntl locks would not), so tests may contend for it in-process.
 *
 * Network filesystems may not honour these locks; keep the data directory on a local disk.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** The lock file's name inside the data directory. */
export const LOCK_FILE_NAME = 'owner.lock';

/** A held owner lock. release() is idempotent; the process's end releases it too. */
export interface OwnerLock {
  readonly path: string;
  release(): void;
}

/** SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): someone else holds the lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Take the owner lock of `dataDir` (created when missing) without waiting: the lock, or undefined when another
 * process (or another connection of this one) holds it.
 */
export function tryOwnerLock(dataDir: string): OwnerLock | undefined {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE_NAME);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    // Nothing is ever written here: keep the (empty) rollback journal in memory, so no file is left beside it.
    db.pragma('journal_mode = MEMORY');
    // An exclusive transaction held for the process's life is the lock.
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (isBusy(error)) return undefined;
    throw error;
  }
  let held = true;
  return {
    path: file,
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}
