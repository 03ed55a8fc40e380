/**
 * One SQLite database file behind better-sqlite3, set up for the task store: WAL journal, synchronous=FULL,
 * a busy timeout, foreign keys on, and a cache of prepared statements.
 *
 * Why these settings:
 * - WAL lets readers (e.g. `sqlite3 data/codegen-pr.db` opened by a person) run beside the writer, and a commit
 *   is one append to the WAL file, so a process killed mid-write leaves the last committed transaction intact
 *   (the next open replays the WAL; a torn tail without its commit frame is ignored).
 * - synchronous=FULL fsyncs the WAL at every commit, so a task the CLI reported as added survives a power cut
 *   too, not only a killed process (NORMAL would be enough for SIGKILL, but may lose the last commits when the
 *   machine stops). The store commits a few times per task, so the fsync costs nothing a person could notice;
 *   adding thousands of tasks from a file is one transaction per batch.
 * - busy_timeout: only the owner of the data directory opens the file (see src/adapters/owner/), so waiting is
 *   rare; when another tool holds a lock for a moment, wait up to 5 s rather than fail at once. better-sqlite3
 *   waits synchronously, which is why this is kept short.
 *
 * better-sqlite3 is synchronous: a transaction is a plain function that runs to its end without yielding, so no
 * two of the store's transactions ever interleave inside one process. Every write uses BEGIN IMMEDIATE, which
 * takes the database's write lock first, so a read-then-write inside a transaction is never raced by another
 * process either.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** A dataDir (or file) that keeps the database in memory, lost on close. */
export const SQLITE_MEMORY = 'memory://';

/** The database file inside a data directory. */
export const SQLITE_FILE_NAME = 'codegen-pr.db';

export interface SqliteOpenOptions {
  /** How long a statement waits for another connection's lock, in ms. Default 5,000. */
  busyTimeoutMs?: number;
}

/** An open database with the helpers the store uses. */
export interface SqliteDatabase {
  /** The better-sqlite3 handle (tests and the harness use it for raw SQL). */
  readonly db: Database.Database;
  /** Where it lives: a file path, or `memory://`. */
  readonly location: string;
  /** The statement for `text`, prepared once and reused. */
  statement(text: string): Database.Statement;
  /** Run `fn` in one write transaction (BEGIN IMMEDIATE), rolled back when it throws. */
  write<T>(fn: () => T): T;
  /** Run `fn` in one read transaction (a consistent snapshot across its statements). */
  read<T>(fn: () => T): T;
  close(): void;
}

/**
 * Open (creating when missing) the database at `file`, or in memory for `memory://`. Missing parent directories
 * are created. The connection is configured as the file comment explains.
 */
export function openSqliteDatabase(file: string, options: SqliteOpenOptions = {}): SqliteDatabase {
  const memory = file === SQLITE_MEMORY;
  if (!memory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(memory ? ':memory:' : file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    // In memory there is no journal file to speak of; WAL applies to files only.
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  return wrapDatabase(db, memory ? SQLITE_MEMORY : file);
}

function wrapDatabase(db: Database.Database, location: string): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  const statement = (text: string): Database.Statement => {
    let prepared = statements.get(text);
    if (!prepared) {
      prepared = db.prepare(text);
      statements.set(text, prepared);
    }
    return prepared;
  };
  return {
    db,
    location,
    statement,
    write: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    read: <T>(fn: () => T): T => db.transaction(fn).deferred(),
    close: () => {
      statements.clear();
      if (db.open) db.close();
    },
  };
}
