/**
 * The status page's routes under /status, on the Task API's Hono app (Node and Worker):
 *
 *   GET  /status                  the overview          GET  /status/tasks/:id        a task and its history
 *   POST /status/tasks/:id/retry  retry a failed task   POST /status/tasks/:id/cancel cancel a task
 *   POST /status/intake           pause or resume a replica's intake (form fields replica, state)
 *
 * Actions go through the store's guarded writes (retryTask, cancelTask: refused unless the state allows it;
 * requestIntake: recorded in operator_actions) with the signed-in name as actor, then redirect (303) back.
 * Forms post without a token, so a cross-site post is refused: an Origin or Sec-Fetch-Site that is not this
 * site gets 403.
 */
import type { Context, Hono } from 'hono';
import { storeOperations } from '../../adapters/task-store/operations.js';
import { createRedactor, type Redactor } from '../../domain/redact.js';
import { isDaemonError } from '../../domain/errors.js';
import type { TaskStore } from '../../pipeline/ports.js';
import { checkTaskId } from '../requests.js';
import { authenticate, type Access, type StatusAuthOptions } from './auth.js';
import { readOverview } from './data.js';
import { escapeHtml, page } from './html.js';
import { renderOverview, renderTask } from './pages.js';

type Env = { Variables: { access: Access } };

function refusal(c: Context, status: 401 | 403 | 404 | 409 | 400, message: string): Response {
  if (status === 401) c.header('WWW-Authenticate', 'Basic realm="codegen-pr status", charset="UTF-8"');
  return c.html(page('codegen-pr status', `<p class="bad">${escapeHtml(message)}</p>`, false), status);
}

/** True when a browser says the request comes from another site. */
function crossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== c.req.header('host');
  } catch {
    return true;
  }
}

export function registerStatusPage(app: Hono, store: TaskStore, options: StatusAuthOptions): void {
  const redactor: Redactor = createRedactor([options.apiKey, options.readOnlyKey]);
  const status = app as unknown as Hono<Env>;

  status.use('/status', gate);
  status.use('/status/*', gate);
  async function gate(c: Context<Env>, next: () => Promise<void>): Promise<Response | undefined> {
    const access = await authenticate(c.req.header('authorization'), options);
    if (!access) return refusal(c, 401, 'Sign in with the Task API key (or the read-only key) as the password.');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (!access.canWrite) return refusal(c, 403, 'This credential may only look: actions are not allowed.');
      if (crossSite(c)) return refusal(c, 403, 'Refused: the form was not posted from this status page.');
    }
    c.set('access', access);
    // Pages show task data: never cached by a shared cache.
    c.header('Cache-Control', 'no-store');
    await next();
    return undefined;
  }

  status.get('/status', async (c) => {
    const overview = await readOverview(store);
    return c.html(renderOverview(overview, redactor, c.get('access').canWrite));
  });

  status.get('/status/tasks/:id', async (c) => {
    const id = c.req.param('id');
    if (checkTaskId(id).length > 0) return refusal(c, 400, 'Not a task id.');
    const task = await store.getTask(id);
    if (!task) return refusal(c, 404, `No task ${id}.`);
    const history = await store.getTaskHistory(id);
    return c.html(renderTask(task, history, redactor, c.get('access').canWrite));
  });

  const act = (verb: 'retry' | 'cancel') =>
    status.post(`/status/tasks/:id/${verb}`, async (c) => {
      const id = c.req.param('id');
      if (checkTaskId(id).length > 0) return refusal(c, 400, 'Not a task id.');
      const { actor } = c.get('access');
      try {
        if (verb === 'retry') await store.retryTask(id, actor);
        else await store.cancelTask(id, actor);
      } catch (err) {
        if (isDaemonError(err) && err.code === 'task-not-found') return refusal(c, 404, `No task ${id}.`);
        if (isDaemonError(err) && err.code === 'invalid-transition') return refusal(c, 409, redactor.text(err.message));
        throw err;
      }
      return c.redirect(`/status/tasks/${encodeURIComponent(id)}`, 303);
    });
  act('retry');
  act('cancel');

  status.post('/status/intake', async (c) => {
    const ops = storeOperations(store);
    if (!ops) return refusal(c, 409, 'This store keeps no replica reports.');
    const form = await c.req.parseBody();
    const replica = typeof form.replica === 'string' ? form.replica : '';
    const state = form.state;
    if (!replica || replica.length > 200 || (state !== 'paused' && state !== 'running')) {
      return refusal(c, 400, 'The form needs replica (a name or *) and state (paused or running).');
    }
    try {
      await ops.requestIntake(replica, state, c.get('access').actor);
    } catch (err) {
      if (isDaemonError(err) && err.code === 'replica-not-found') return refusal(c, 404, redactor.text(err.message));
      throw err;
    }
    return c.redirect('/status', 303);
  });
}
