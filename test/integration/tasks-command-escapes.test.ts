/**
 * `tasks list` and `tasks show` on a row written straight into the table (bypassing intake) whose text carries
 * terminal escape sequences, bidirectional overrides and zero-width characters: nothing reaches the operator's
 * terminal raw; each character is shown as a visible escape instead.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSqlTaskStore, migrate, type SqlClient } from '../../src/adapters/task-store/index.js';
import { openPgliteClient } from '../../src/adapters/task-store/pglite.js';
import { runTasksCommand } from '../../src/cli/tasks-command.js';
import type { TaskStore } from '../../src/pipeline/ports.js';

// Anything a terminal would act on or hide: C0 but tab, DEL, C1, bidi controls, zero-width, separators.
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const RAW_UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

const HOSTILE = {
  clearScreen: '\u001b[2J\u001b[H',
  clipboard: '\u001b]52;c;cm0gLXJmIH4=\u0007',
  hidden: '\u001b[8msecret\u001b[0m',
  c1Csi: '\u009b31m',
  bidi: 'txt.exe\u202egpj.',
  zeroWidth: 'pay\u200bpal',
  bell: '\u0007',
  carriageReturn: 'safe\rEVIL',
};
const PAYLOAD = Object.values(HOSTILE).join(' ');

describe('the tasks CLI prints stored text safely', () => {
  let sql: SqlClient;
  let store: TaskStore;
  const out: string[] = [];
  const err: string[] = [];
  const run = (...argv: string[]) =>
    runTasksCommand(argv, { store, out: (line) => out.push(line), err: (line) => err.push(line) });

  beforeAll(async () => {
    sql = await openPgliteClient('memory://');
    await migrate(sql);
    store = createSqlTaskStore(sql);
    await sql.query(
      `INSERT INTO codegen_pr.tasks (id, title, description, type, priority, labels, repository, status,
                                     error_category, error_code, error_message, pr_url, pr_number, pr_branch)
       VALUES ('hostile', $1, $2, $3, 'high', $4::jsonb, $5, 'failed', $6, $7, $8, $9, 7, $10)`,
      [
        `Title ${PAYLOAD}`,
        `Line one ${PAYLOAD}\n\tline two ${HOSTILE.clearScreen}`,
        `feature${HOSTILE.bell}`,
        JSON.stringify([`label ${HOSTILE.c1Csi}`, HOSTILE.bidi]),
        `acme/${HOSTILE.zeroWidth}`,
        `server${HOSTILE.hidden}`,
        `code${HOSTILE.clipboard}`,
        `message ${PAYLOAD}`,
        `https://github.com/acme/web/pull/7${HOSTILE.clearScreen}`,
        `branch${HOSTILE.carriageReturn}`,
      ],
    );
    await sql.query(
      `INSERT INTO codegen_pr.task_events (task_id, actor, kind, detail)
       VALUES ('hostile', $1, $2, $3::jsonb)`,
      [`actor${HOSTILE.bidi}`, `kind${HOSTILE.clearScreen}`, JSON.stringify({ note: PAYLOAD })],
    );
  });

  afterAll(async () => {
    await store?.close();
  });

  it('escapes every control, escape and invisible character in `tasks show`', async () => {
    expect(await run('show', 'hostile')).toBe(0);
    const printed = out.join('\n');
    for (const line of out) expect([line, RAW_UNSAFE.test(line)]).toEqual([line, false]);
    expect(printed).toContain('Title \\x1b[2J\\x1b[H');
    expect(printed).toContain('\\x1b]52;c;cm0gLXJmIH4=\\x07');
    expect(printed).toContain('txt.exe\\u202egpj.');
    expect(printed).toContain('pay\\u200bpal');
    expect(printed).toContain('safe\\x0dEVIL');
    expect(printed).toContain('\\x9b31m');
    // The description keeps its own line breaks and tabs.
    expect(out).toContain('  \tline two \\x1b[2J\\x1b[H');
    expect(err).toEqual([]);
  });

  it('escapes them in `tasks list` too', async () => {
    out.length = 0;
    expect(await run('list')).toBe(0);
    expect(out.length).toBeGreaterThan(1);
    for (const line of out) expect([line, RAW_UNSAFE.test(line)]).toEqual([line, false]);
    expect(out.join('\n')).toContain('acme/pay\\u200bpal');
  });
});
