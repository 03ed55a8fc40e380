/**
 * One node-postgres Client behind SqlClient, for the Worker: a Worker may not keep a socket between requests,
 * so each request gets its own Client (through Hyperdrive, which pools the real connections). The Client
 * connects on the first query, so requests that never touch the database (401s, /openapi.json) cost nothing.
 */
import pg from 'pg';
import type { SqlClient } from '../adapters/task-store/sql.js';
import { runQuery, transactionClient } from '../adapters/task-store/postgres.js';

/** A SqlClient over one connection, plus `end()` to close it once the response is sent. */
export interface SingleConnectionClient extends SqlClient {
  /** Close the connection if it was opened; never throws. */
  end(): Promise<void>;
}

/** A lazily connected single-connection SqlClient for `connectionString`. */
export function connectOnFirstUse(connectionString: string): SingleConnectionClient {
  let connecting: Promise<pg.Client> | undefined;
  // One statement or transaction at a time: a Client would interleave a concurrent query into an open transaction.
  let queue: Promise<unknown> = Promise.resolve();

  const connection = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const client = new pg.Client({ connectionString, application_name: 'codegen-pr-task-api' });
      // Without a listener a dropped connection would be an uncaught error event.
      client.on('error', () => {});
      await client.connect();
      return client;
    })();
    return connecting;
  };

  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const end = async (): Promise<void> => {
    if (!connecting) return;
    try {
      await (await connecting).end();
    } catch {
      // The connection never opened or is already gone: nothing left to close.
    }
  };

  return {
    query: (text, params) => serially(async () => runQuery(await connection(), text, params)),
    transaction: (fn) =>
      serially(async () => {
        const conn = await connection();
        await conn.query('BEGIN');
        try {
          const result = await fn(transactionClient(conn));
          await conn.query('COMMIT');
          return result;
        } catch (error) {
          await conn.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    close: end,
    end,
  };
}
