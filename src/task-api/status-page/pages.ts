/**
 * The status page's two views, rendered on the server: the overview (queue, tasks in flight, waiting tasks,
 * failures by category, replicas with their intake, breakers and budgets, PRs opened today, operator actions)
 * and a task with its history. Pure functions of what data.ts read; every value goes through `t()`.
 */
import type { ReplicaRecord } from '../../adapters/task-store/operations.js';
import { LIVE_STATUSES } from '../../adapters/task-store/operations.js';
import type { Redactor } from '../../domain/redact.js';
import { isTerminal, type Task } from '../../domain/task.js';
import type { TaskEvent } from '../../pipeline/ports.js';
import { suggestionsOf, type Overview } from './data.js';
import { ago, button, page, table, textKit } from './html.js';

const since = (now: number, at: string | undefined): string =>
  at && Number.isFinite(Date.parse(at)) ? ago((now - Date.parse(at)) / 1000) : '';
const until = (now: number, at: string | undefined): string => {
  if (!at || !Number.isFinite(Date.parse(at))) return 'now';
  const left = (Date.parse(at) - now) / 1000;
  return left <= 0 ? 'now' : `in ${ago(left)}`;
};

export function renderOverview(data: Overview, redactor: Redactor, canWrite: boolean): string {
  const { t, link } = textKit(redactor);
  const taskLink = (id: string, title: string) =>
    `<a href="/status/tasks/${encodeURIComponent(id)}">${t(id)}</a> ${t(title)}`;
  const parts: string[] = ['<h1>codegen-pr status</h1>'];

  parts.push('<h2>Tasks by state</h2>');
  if (data.snapshot) {
    const s = data.snapshot;
    parts.push(
      table(
        [...LIVE_STATUSES.map((x) => t(x)), 'oldest ready task waiting', 'oldest finished task kept'],
        [
          [
            ...LIVE_STATUSES.map((x) => t(s.live[x])),
            t(ago(s.oldestReadyAgeSeconds)),
            t(ago(s.oldestFinishedAgeSeconds)),
          ],
        ],
      ),
    );
  } else {
    const counts = data.counts ?? {};
    parts.push(table(Object.keys(counts).map(t), [Object.values(counts).map(t)]));
  }

  parts.push('<h2>In flight</h2>');
  parts.push(
    table(
      ['task', 'status', 'worker', 'agent run', 'since last progress', 'attempt'],
      data.inFlight.map((task) => [
        taskLink(task.id, task.title),
        t(task.status),
        t(task.worker ?? ''),
        link(task.agentRunUrl, 'run'),
        t(since(data.now, task.updatedAt)),
        t(task.attempts),
      ]),
    ),
  );

  parts.push('<h2>Pending (newest first)</h2>');
  parts.push(
    table(
      ['task', 'repository', 'priority', 'waiting since', ''],
      data.pending.map((task) => [
        taskLink(task.id, task.title),
        t(task.repository ?? ''),
        t(task.priority),
        t(`${since(data.now, task.updatedAt)} ago`),
        canWrite ? button(`/status/tasks/${encodeURIComponent(task.id)}/cancel`, 'Cancel') : '',
      ]),
    ),
  );

  parts.push('<h2>Waiting to be tried again</h2>');
  parts.push(
    table(
      ['task', 'repository', 'reason', 'next try', 'attempts'],
      data.waiting.map((task) => [
        taskLink(task.id, task.title),
        t(task.repository ?? ''),
        task.lastError ? `${t(task.lastError.code)}: ${t(task.lastError.message)}` : '',
        t(until(data.now, task.nextRunAt)),
        `${t(task.attempts)} / ${t(task.maxAttempts)}`,
      ]),
    ),
  );

  parts.push('<h2>Failures by category</h2>');
  if (data.failures.length === 0) parts.push('<p class="muted">None.</p>');
  for (const group of data.failures) {
    parts.push(`<h3>${t(group.category)} (${group.tasks.length})</h3>`);
    parts.push(
      table(
        ['task', 'error', 'suggestions', ''],
        group.tasks.map((task) => [
          taskLink(task.id, task.title),
          task.lastError ? `<code>${t(task.lastError.code)}</code> ${t(task.lastError.message)}` : '',
          suggestionsOf(task).map(t).join('<br>'),
          canWrite ? button(`/status/tasks/${encodeURIComponent(task.id)}/retry`, 'Retry') : '',
        ]),
      ),
    );
  }

  parts.push('<h2>Replicas</h2>');
  parts.push(renderReplicas(data.replicas, data.now, t, canWrite));

  parts.push('<h2>PRs opened today</h2>');
  parts.push(
    table(
      ['task', 'pull request', 'state'],
      data.prsToday.map((task) => [
        taskLink(task.id, task.title),
        link(task.checkpoint.pr?.url, `#${task.checkpoint.pr?.number ?? ''}`),
        t(task.checkpoint.pr?.state ?? 'open'),
      ]),
    ),
  );

  parts.push('<h2>Recent operator actions</h2>');
  parts.push(
    table(
      ['when', 'who', 'what', 'replica'],
      data.actions.map((a) => [t(`${since(data.now, a.at)} ago`), t(a.actor), t(a.action), t(a.target)]),
    ),
  );
  return page('codegen-pr status', parts.join('\n'), !canWrite);
}

function renderReplicas(replicas: ReplicaRecord[], now: number, t: (v: unknown) => string, canWrite: boolean): string {
  const rows = replicas.map((r) => {
    const report = r.report as {
      version?: string;
      activeTasks?: number;
      concurrency?: number;
      intake?: { open?: boolean; paused?: Array<{ reason: string; until?: string }> };
      circuits?: unknown;
      rateBudgets?: unknown;
      outages?: unknown[];
      parkedRepositories?: unknown[];
    };
    const paused = report.intake?.paused ?? [];
    const intake =
      paused.length === 0
        ? 'open'
        : paused.map((p) => `paused: ${t(p.reason)}${p.until ? ` until ${t(p.until)}` : ''}`).join('<br>');
    const request = r.intakeRequest
      ? `<br><span class="muted">${t(r.intakeRequest.state)} asked by ${t(r.intakeRequest.by)}</span>`
      : '';
    const actions = canWrite
      ? button('/status/intake', 'Pause intake', { replica: r.name, state: 'paused' }) +
        button('/status/intake', 'Resume intake', { replica: r.name, state: 'running' })
      : '';
    return [
      t(r.name),
      t(`${since(now, r.reportedAt)} ago`),
      t(report.version ?? ''),
      `${t(report.activeTasks ?? '')} / ${t(report.concurrency ?? '')}`,
      intake + request,
      `<code>${t(report.circuits ?? {})}</code>`,
      `<code>${t(report.rateBudgets ?? {})}</code>`,
      `<code>${t([...(report.outages ?? []), ...(report.parkedRepositories ?? [])])}</code>`,
      actions,
    ];
  });
  return table(
    ['replica', 'reported', 'version', 'in flight', 'intake', 'breakers', 'rate budgets', 'outages, parked', ''],
    rows,
    'No replica has reported (replicas report when they hold the database: PostgreSQL or an embedded store they own).',
  );
}

export function renderTask(
  task: Task,
  history: TaskEvent[],
  redactor: Redactor,
  canWrite: boolean,
  now = Date.now(),
): string {
  const { t, link } = textKit(redactor);
  const action = (verb: string) => `/status/tasks/${encodeURIComponent(task.id)}/${verb}`;
  const buttons = canWrite
    ? [
        ...(task.status === 'failed' || task.status === 'cancelled' ? [button(action('retry'), 'Retry')] : []),
        ...(!isTerminal(task.status) ? [button(action('cancel'), 'Cancel')] : []),
      ].join(' ')
    : '';
  const fields: Array<[string, string]> = [
    ['status', t(task.status)],
    ['title', t(task.title)],
    ['repository', t(task.repository ?? '')],
    ['type / priority', `${t(task.type)} / ${t(task.priority)}`],
    ['attempts', `${t(task.attempts)} / ${t(task.maxAttempts)}`],
    ['next try', task.status === 'retry' ? t(until(now, task.nextRunAt)) : ''],
    ['agent run', link(task.checkpoint.agentRunUrl, String(task.checkpoint.agentRunId ?? 'run'))],
    [
      'pull request',
      link(task.checkpoint.pr?.url, `#${task.checkpoint.pr?.number ?? ''} ${task.checkpoint.pr?.state ?? ''}`),
    ],
    [
      'last error',
      task.lastError
        ? `${t(task.lastError.category)} <code>${t(task.lastError.code)}</code> ${t(task.lastError.message)}`
        : '',
    ],
    ['suggestions', suggestionsOf(task).map(t).join('<br>')],
    ['created', t(task.createdAt)],
    ['last change', `${t(task.updatedAt)} (${t(since(now, task.updatedAt))} ago)`],
  ];
  const body = [
    `<h1>Task ${t(task.id)}</h1>`,
    buttons ? `<p>${buttons}</p>` : '',
    table(
      ['', ''],
      fields.map(([k, v]) => [t(k), v]),
    ),
    '<h2>Description</h2>',
    `<pre>${t(task.description)}</pre>`,
    '<h2>History</h2>',
    table(
      ['when', 'who', 'what', 'from', 'to', 'detail'],
      history.map((e) => [
        t(e.at),
        t(e.actor),
        t(e.kind),
        t(e.fromStatus ?? ''),
        t(e.toStatus ?? ''),
        e.detail ? `<code>${t(e.detail)}</code>` : '',
      ]),
    ),
  ];
  return page(`Task ${t(task.id)}`, body.join('\n'), !canWrite);
}
