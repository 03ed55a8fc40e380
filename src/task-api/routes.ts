/**
 * The authenticated Task API routes: one handler per endpoint, each validating its input, making one TaskStore
 * call and answering JSON. Failures are thrown and turned into responses by the app's error handler.
 */
import type { Context, Hono } from 'hono';
import { batchProblems, validateNewTask } from '../domain/task-validation.js';
import type { NewTask } from '../domain/task.js';
import type { ClaimedTask } from '../domain/task.js';
import type { ClaimOptions, TaskStore } from '../pipeline/ports.js';
import { notFoundResponse, validationResponse, type ApiErrorBody } from './http-errors.js';
import { readJsonBody } from './json-body.js';
import {
  checkTaskId,
  parseActorBody,
  parseClaim,
  parseCreateEnvelope,
  parseFeedback,
  parseHeartbeat,
  parseListQuery,
  parseRunIntent,
  parseSighting,
} from './requests.js';
import { parsePullRequestChange, parseStatusChange, type StatusChange } from './status-requests.js';
import type { Checked, FieldError } from './validate.js';

/** The actor recorded in a task's history when the caller names none. */
const DEFAULT_ACTOR = 'api';

/** Read a JSON body (json-body.ts); an empty body is `undefined`. Refusals are 400 or 415 naming the field. */
async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const body = readJsonBody(await c.req.arrayBuffer(), c.req.header('content-type'));
  if (body.ok) return body;
  if (body.status === 415) {
    const payload: ApiErrorBody = { error: 'unsupported-media-type', message: body.message, fields: body.fields };
    return { ok: false, response: c.json(payload, 415) };
  }
  return { ok: false, response: validationResponse(c, body.fields, body.message) };
}

/** Parse the path id and the body with `parse`; answer 400 for either, or hand both to `run`. */
async function withBody<T>(
  c: Context,
  parse: (body: unknown) => Checked<T>,
  run: (id: string, value: T) => Promise<Response>,
): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const idErrors = c.req.param('id') === undefined ? [] : checkTaskId(id);
  const body = await readJson(c);
  if (!body.ok) return body.response;
  const parsed = parse(body.value);
  const errors = [...idErrors, ...(parsed.ok ? [] : parsed.errors)];
  if (errors.length > 0 || !parsed.ok) return validationResponse(c, errors);
  return run(id, parsed.value);
}

/** Check every new task, prefixing field names with the task's place in a batch. */
function checkNewTasks(items: unknown[], batch: boolean): Checked<NewTask[]> {
  const errors: FieldError[] = [];
  const tasks: NewTask[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const prefix = batch ? `tasks[${index}].` : '';
    const result = validateNewTask(item);
    if (!result.ok) {
      // validateNewTask names the task itself `(task)`; say where it is instead.
      const whole = batch ? `tasks[${index}]` : 'body';
      errors.push(
        ...result.errors.map((e) => ({
          field: e.field === '(task)' ? whole : `${prefix}${e.field}`,
          message: e.message,
        })),
      );
      return;
    }
    const id = result.task.id;
    if (id !== undefined && seen.has(id)) {
      errors.push({ field: `${prefix}id`, message: `repeats the id of tasks[${seen.get(id)}]` });
    } else if (id !== undefined) seen.set(id, index);
    tasks.push(result.task);
  });
  // Only when every task is valid: the places batchProblems names are then the batch's own.
  if (batch && errors.length === 0) errors.push(...batchProblems(tasks));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: tasks };
}

async function applyStatusChange(store: TaskStore, id: string, change: StatusChange): Promise<object> {
  switch (change.kind) {
    case 'agent-run':
      await store.recordAgentRun(id, change.token, change.run);
      return { ok: true };
    case 'complete':
      await store.completeTask(id, change.token, change.report);
      return { ok: true };
    case 'fail':
      return { task: await store.failTask(id, change.token, change.report) };
    case 'release':
      await store.releaseTask(id, change.token);
      return { ok: true };
    case 'retry':
      return { task: await store.retryTask(id, change.actor ?? DEFAULT_ACTOR) };
    case 'cancel':
      return { task: await store.cancelTask(id, change.actor ?? DEFAULT_ACTOR) };
  }
}

/** Register every authenticated route on `app`. */
/** Subscribe to "a task may be claimable now"; returns the unsubscribe function (a TasksAddedSignal fits). */
export interface ClaimWakeups {
  onTasksAdded(listener: () => void): () => void;
}

/**
 * Claim; when nothing was claimable and the caller asked to wait, wait for a wake-up (or `waitMs`, or the
 * caller going away) and claim once more. Subscribed before the first claim: a task added between that claim and
 * the wait still wakes it.
 */
async function claimWithWait(
  store: TaskStore,
  options: ClaimOptions,
  wakeups: ClaimWakeups | undefined,
  gone: AbortSignal,
): Promise<ClaimedTask[]> {
  const { waitMs = 0, ...claim } = options;
  if (!wakeups || waitMs <= 0) return store.claimTasks(claim);
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = wakeups.onTasksAdded(() => wake());
  const timer = setTimeout(wake, waitMs);
  gone.addEventListener('abort', wake, { once: true });
  try {
    const first = await store.claimTasks(claim);
    if (first.length > 0) return first;
    await woken;
    return gone.aborted ? [] : await store.claimTasks(claim);
  } finally {
    clearTimeout(timer);
    unsubscribe();
    gone.removeEventListener('abort', wake);
  }
}

export function registerTaskRoutes(app: Hono, store: TaskStore, wakeups?: ClaimWakeups): void {
  app.get('/stats', async (c) => c.json({ counts: await store.countByStatus() }));

  app.get('/tasks', async (c) => {
    const filter = parseListQuery(c.req.queries());
    if (!filter.ok) return validationResponse(c, filter.errors);
    const page = await store.listTasks(filter.value);
    return c.json({ tasks: page.tasks, nextCursor: page.nextCursor ?? null });
  });

  app.post('/tasks', (c) =>
    withBody(c, parseCreateEnvelope, async (_id, envelope) => {
      const checked = checkNewTasks(envelope.items, envelope.batch);
      if (!checked.ok) return validationResponse(c, checked.errors);
      const created = await store.addTasks(checked.value, envelope.actor ?? DEFAULT_ACTOR);
      return c.json({ tasks: created }, 201);
    }),
  );

  app.post('/tasks/claim', (c) =>
    withBody(c, parseClaim, async (_id, options) =>
      c.json({ tasks: await claimWithWait(store, options, wakeups, c.req.raw.signal) }),
    ),
  );

  app.get('/tasks/:id', async (c) => {
    const id = c.req.param('id');
    const idErrors = checkTaskId(id);
    if (idErrors.length > 0) return validationResponse(c, idErrors);
    const task = await store.getTask(id);
    if (!task) return notFoundResponse(c, `task ${id} does not exist`, 'task-not-found');
    return c.json({ task, history: await store.getTaskHistory(id) });
  });

  app.post('/tasks/:id/heartbeat', (c) =>
    withBody(c, parseHeartbeat, async (id, { token, leaseMs }) =>
      c.json({ lease: await store.heartbeat(id, token, leaseMs) }),
    ),
  );

  app.put('/tasks/:id/intent', (c) =>
    withBody(c, parseRunIntent, async (id, { token, nonce }) =>
      c.json({ intent: await store.recordRunIntent(id, token, nonce) }),
    ),
  );

  app.post('/tasks/:id/sightings', (c) =>
    withBody(c, parseSighting, async (id, sighting) => c.json({ outcome: await store.noteAgentRun(id, sighting) })),
  );

  app.put('/tasks/:id/status', (c) =>
    withBody(c, parseStatusChange, async (id, change) => c.json(await applyStatusChange(store, id, change))),
  );

  app.put('/tasks/:id/pr', (c) =>
    withBody(c, parsePullRequestChange, async (id, change) => {
      if (change.kind === 'record') await store.recordPullRequest(id, change.token, change.pr);
      else await store.updatePullRequestState(id, change.state);
      return c.json({ ok: true });
    }),
  );

  app.post('/tasks/:id/feedback', (c) =>
    withBody(c, parseFeedback, async (id, { feedback, actor }) =>
      c.json({ task: await store.addFeedback(id, feedback, actor ?? DEFAULT_ACTOR) }),
    ),
  );

  app.post('/tasks/:id/retry', (c) =>
    withBody(c, parseActorBody, async (id, { actor }) =>
      c.json({ task: await store.retryTask(id, actor ?? DEFAULT_ACTOR) }),
    ),
  );

  app.post('/tasks/:id/cancel', (c) =>
    withBody(c, parseActorBody, async (id, { actor }) =>
      c.json({ task: await store.cancelTask(id, actor ?? DEFAULT_ACTOR) }),
    ),
  );
}
