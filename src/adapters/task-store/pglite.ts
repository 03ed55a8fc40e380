/**
 * PGlite (PostgreSQL in WebAssembly) behind SqlClient: the embedded default store, and the store of tests.
 * PGlite is one connection; it queues queries and transactions itself, so concurrent callers are serialised
 * rather than run in parallel, which is all a single-process daemon needs.
 *
 * PGlite cannot hang on a network, but a caller may wait behind a long queue: an aborted signal rejects at once
 * (the statement, if already queued, still runs). Inside a transaction every later statement then refuses to
 * start, so the transaction function throws and PGlite rolls it back.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { abortable, sqlCancelled, type SqlClient } from './sql.js';

/** A dataDir that keeps the database in memory (lost on close). */
export const PGLITE_MEMORY = 'memory://';

type Queryable = Pick<Transaction, 'query'>;

async function runQuery<T>(conn: Queryable, text: string, params?: unknown[]) {
  const result = await conn.query<T>(text, params);
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

function transactionClient(tx: Transaction, outer: AbortSignal | undefined): SqlClient {
  const self: SqlClient = {
    query: (text, params, signal) => {
      const aborted = outer?.aborted ? outer : signal?.aborted ? signal : undefined;
      if (aborted) return Promise.reject(sqlCancelled(aborted.reason));
      return abortable(runQuery(tx, text, params), signal);
    },
    transaction: (fn) => fn(self),
    close: async () => {
      throw new Error('close() called on a transaction client');
    },
  };
  return self;
}

/** Wrap an open PGlite instance; close() closes it. */
export function wrapPglite(db: PGlite): SqlClient {
  return {
    query: (text, params, signal) => {
      if (signal?.aborted) return Promise.reject(sqlCancelled(signal.reason));
      return abortable(runQuery(db, text, params), signal);
    },
    transaction: (fn, signal) => {
      if (signal?.aborted) return Promise.reject(sqlCancelled(signal.reason));
      return abortable(
        db.transaction((tx) => fn(transactionClient(tx, signal))),
        signal,
      );
    },
    close: () => db.close(),
  };
}

/**
 * Open (creating when missing) the PGlite database in `dataDir`, e.g. `./data/pglite`; missing directories are
 * created. `memory://` keeps it in memory.
 */
export async function openPgliteClient(dataDir: string): Promise<SqlClient> {
  if (!dataDir.startsWith(PGLITE_MEMORY)) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  return wrapPglite(db);
}
