/**
 * The Task API's OpenAPI 3.1 document: exactly the routes app.ts registers (a test holds the two together),
 * served at GET /openapi.json. Schemas live in openapi-schemas.ts.
 */
import { REPOSITORY_PATTERN } from '../domain/task-validation.js';
import { LIMITS } from './requests.js';
import { REQUEST_BODIES, SCHEMAS } from './openapi-schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: unknown) => ({ description, ...json(schema) });
const body = (name: string) => ({ $ref: `#/components/requestBodies/${name}` });
/** Bodies that may be left out; every other request body is required. */
const OPTIONAL_BODIES = new Set(['Actor']);
const errors = (...codes: readonly number[]) =>
  Object.fromEntries(
    [401, ...codes, 500].map((code) => [String(code), { $ref: `#/components/responses/Error${code}` }]),
  );
/** Every route that reads a body may answer 413 (over 1 MiB) and 415 (not application/json). */
const BODY = [413, 415] as const;
const idParam = { $ref: '#/components/parameters/TaskId' };
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
/** The status page takes the key as bearer token or as Basic password. */
const STATUS_SECURITY = [{ bearer: [] }, { basic: [] }];
const STATUS_ACTION_RESPONSES = {
  '303': { description: 'Done; back to the page (Location).' },
  '400': html('The form or the id is not valid.'),
  '401': html('Sign in first.'),
  '403': html('A read-only credential, or a form posted from another site.'),
  '404': html('No such task or replica.'),
  '409': html('The task is in a state the action cannot start from.'),
};
const leased = 'Needs the lease token of the claim; a stale token is a 409 stale-lease.';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `fields` names every bad field.',
  401: 'Missing or wrong bearer token.',
  404: 'No such task (task-not-found) or route (not-found).',
  409: 'Conflict: stale-lease, invalid-transition, task-exists, or task-duplicate (existingTaskId names the live task holding the dedupe key).',
  413: 'Request body over 1 MiB (payload-too-large).',
  415: 'A non-empty body whose Content-Type is not application/json in UTF-8 (unsupported-media-type).',
  500: 'Internal error; the detail is only in the server log.',
};

/** The document served at /openapi.json. */
export const TASK_API_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'codegen-pr Task API',
    version: '1.0.0',
    contact: { name: 'codegen-pr maintainers' },
    description:
      'The task queue of codegen-pr over HTTP (the seed\'s "Cloudflare API" in front of PostgreSQL). Every route ' +
      'but /health and /openapi.json needs `Authorization: Bearer <key>`. Errors are `{ error, message, fields? }`.',
  },
  servers: [{ url: '/', description: 'The host that serves this document (a Worker, or `codegen-pr task-api`).' }],
  tags: [
    { name: 'service', description: 'Health and this document; no credentials needed.' },
    { name: 'tasks', description: 'Adding, reading, retrying and cancelling tasks, and their feedback.' },
    { name: 'leases', description: 'What the daemon does under a claim: claim, heartbeat and leased writes.' },
    {
      name: 'operators',
      description:
        'The status page (server-rendered HTML) and /metrics. The page signs in with the key as bearer token or as Basic password (the Basic user name is recorded as who acted); a read-only key may only look.',
    },
  ],
  security: [{ bearer: [] }],
  paths: {
    '/health': {
      get: {
        operationId: 'health',
        tags: ['service'],
        description:
          'Answers 200 when the store answers a ping within the health timeout, 503 otherwise. Needs no credentials and reveals nothing but the two states.',
        security: [],
        summary: 'Liveness and store reachability.',
        responses: {
          '200': ok('The store answered.', {
            type: 'object',
            required: ['status'],
            properties: { status: { const: 'ok' } },
          }),
          '503': ok('The store did not answer.', {
            type: 'object',
            required: ['status'],
            properties: { status: { const: 'unavailable' } },
          }),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        tags: ['service'],
        description: 'The OpenAPI 3.1 document of this API, the one you are reading. Needs no credentials.',
        security: [],
        summary: 'This document.',
        responses: { '200': ok('OpenAPI 3.1.', { type: 'object' }) },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        tags: ['operators'],
        description:
          'Prometheus metrics of the Task API on Node: requests by route pattern, latency, the live queue and the oldest ready task read at scrape time, retention. The Cloudflare Worker answers 404: an isolate keeps no registry worth scraping.',
        summary: 'Prometheus metrics (Node only).',
        responses: {
          '200': {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errors(404),
        },
      },
    },
    '/status': {
      get: {
        operationId: 'statusPage',
        tags: ['operators'],
        description:
          'The status page: tasks by state and the oldest ready one, tasks in flight with worker and agent run, tasks waiting with reason and next try, failures by category with suggestions, replicas with intake, breakers and budgets, PRs opened today, operator actions.',
        summary: 'Status page (HTML).',
        security: STATUS_SECURITY,
        responses: { '200': html('The overview.'), '401': html('Sign in first (WWW-Authenticate: Basic).') },
      },
    },
    '/status/tasks/{id}': {
      parameters: [idParam],
      get: {
        operationId: 'statusTaskPage',
        tags: ['operators'],
        description: 'One task, its checkpoint, last error, suggestions and history, with Retry and Cancel buttons.',
        summary: 'A task and its history (HTML).',
        security: STATUS_SECURITY,
        responses: { '200': html('The task page.'), '401': html('Sign in first.'), '404': html('No such task.') },
      },
    },
    '/status/tasks/{id}/retry': {
      parameters: [idParam],
      post: {
        operationId: 'statusRetryTask',
        tags: ['operators'],
        description: 'Retry a failed or cancelled task from the status page; recorded in its history with who did it.',
        summary: 'Retry from the status page.',
        security: STATUS_SECURITY,
        responses: STATUS_ACTION_RESPONSES,
      },
    },
    '/status/tasks/{id}/cancel': {
      parameters: [idParam],
      post: {
        operationId: 'statusCancelTask',
        tags: ['operators'],
        description:
          'Cancel a task that has not finished, from the status page; recorded in its history with who did it.',
        summary: 'Cancel from the status page.',
        security: STATUS_SECURITY,
        responses: STATUS_ACTION_RESPONSES,
      },
    },
    '/status/intake': {
      post: {
        operationId: 'statusIntake',
        tags: ['operators'],
        description:
          'Ask a replica (or every replica, `*`) to pause or resume claiming; it obeys at its next report. Recorded as an operator action with who asked.',
        summary: 'Pause or resume a replica from the status page.',
        security: STATUS_SECURITY,
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                required: ['replica', 'state'],
                properties: {
                  replica: { type: 'string', minLength: 1, maxLength: 200 },
                  state: { type: 'string', enum: ['paused', 'running'] },
                },
              },
            },
          },
        },
        responses: STATUS_ACTION_RESPONSES,
      },
    },
    '/replicas/{name}': {
      parameters: [
        {
          name: 'name',
          in: 'path',
          required: true,
          description: "The replica's worker name.",
          schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' },
        },
      ],
      put: {
        operationId: 'reportReplica',
        tags: ['operators'],
        description:
          "A daemon's report of itself for the status page (intake, breakers, budgets), every REPLICA_REPORT_INTERVAL_MS. The answer carries any pause or resume asked for on the status page.",
        summary: 'Report a replica.',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['startedAt', 'report'],
                properties: {
                  startedAt: { type: 'string', format: 'date-time' },
                  report: { type: 'object', description: 'At most 64 KiB of JSON.' },
                },
              },
            },
          },
        },
        responses: {
          '200': ok('The replica as stored, with any intake request.', {
            type: 'object',
            required: ['replica'],
            properties: {
              replica: {
                type: 'object',
                required: ['name', 'reportedAt', 'report'],
                properties: {
                  name: { type: 'string' },
                  reportedAt: { type: 'string', format: 'date-time' },
                  startedAt: { type: 'string', format: 'date-time' },
                  report: { type: 'object' },
                  intakeRequest: {
                    type: 'object',
                    required: ['state', 'by', 'at'],
                    properties: {
                      state: { type: 'string', enum: ['paused', 'running'] },
                      by: { type: 'string' },
                      at: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            },
          }),
          ...errors(400, 404),
        },
      },
    },
    '/stats': {
      get: {
        operationId: 'countByStatus',
        tags: ['tasks'],
        description: 'How many tasks are in each status: the queue depth a dashboard or an autoscaler reads.',
        summary: 'Number of tasks per status (queue depth).',
        responses: {
          '200': ok('Counts; statuses with no tasks may be absent.', {
            type: 'object',
            required: ['counts'],
            properties: {
              counts: {
                type: 'object',
                propertyNames: ref('TaskStatus'),
                additionalProperties: { type: 'integer', minimum: 0 },
              },
            },
          }),
          ...errors(),
        },
      },
    },
    '/tasks': {
      get: {
        operationId: 'listTasks',
        tags: ['tasks'],
        description:
          'Newest first, `limit` at a time (1-500, default 50). Pass `nextCursor` back as `cursor` for the next page; a cursor that this API did not make is refused naming `cursor`.',
        summary: 'List tasks, newest first, a page at a time (the seed: GET /tasks?status=pending&limit=N).',
        parameters: [
          { name: 'status', in: 'query', schema: ref('TaskStatus') },
          { name: 'priority', in: 'query', schema: ref('TaskPriority') },
          { name: 'repository', in: 'query', schema: { type: 'string', pattern: REPOSITORY_PATTERN.source } },
          {
            name: 'limit',
            in: 'query',
            schema: {
              type: 'integer',
              minimum: LIMITS.pageSize.min,
              maximum: LIMITS.pageSize.max,
              default: LIMITS.pageSize.default,
            },
          },
          {
            name: 'cursor',
            in: 'query',
            description: 'nextCursor of the previous page.',
            schema: { type: 'string', minLength: 1, maxLength: 500 },
          },
        ],
        responses: {
          '200': ok('One page.', {
            type: 'object',
            required: ['tasks', 'nextCursor'],
            properties: { tasks: { type: 'array', items: ref('Task') }, nextCursor: { type: ['string', 'null'] } },
          }),
          ...errors(400),
        },
      },
      post: {
        operationId: 'addTasks',
        tags: ['tasks'],
        description:
          'Every task is checked before any is stored: a batch is all or nothing, and the 400 names each bad field by its place (`tasks[2].title`). Titles and labels refuse control, escape and invisible characters; descriptions keep tab and newline and lose the rest; see the schema for the caps.',
        summary:
          'Create one task, or a batch as { tasks: [...] }. An existing id is a 409 task-exists; a dedupeKey a live task holds is a 409 task-duplicate with existingTaskId.',
        requestBody: body('CreateTasks'),
        responses: {
          '201': ok('The created tasks.', {
            type: 'object',
            required: ['tasks'],
            properties: { tasks: { type: 'array', items: ref('Task') } },
          }),
          ...errors(400, 409, ...BODY),
        },
      },
    },
    '/tasks/claim': {
      post: {
        operationId: 'claimTasks',
        tags: ['leases'],
        description:
          "Claims up to `limit` (1-100) claimable tasks in priority order (critical, high, medium, low), oldest first within a priority, each with a fresh lease of `leaseMs` (1 s to 1 h) and a fencing token that every later leased write must carry. With `repositoryCap`, a repository that already holds its cap of live leases is skipped and the claim takes other repositories' tasks.",
        summary: 'Atomically claim up to `limit` claimable tasks, each with a new lease.',
        requestBody: body('Claim'),
        responses: {
          '200': ok('The claimed tasks (maybe none).', {
            type: 'object',
            required: ['tasks'],
            properties: { tasks: { type: 'array', items: ref('ClaimedTask') } },
          }),
          ...errors(400, ...BODY),
        },
      },
    },
    '/tasks/{id}': {
      parameters: [idParam],
      get: {
        operationId: 'getTask',
        tags: ['tasks'],
        description:
          'The task as stored, and its history oldest first. Text is returned as stored: a row written straight into the table may hold characters that intake would refuse.',
        summary: 'A task and its history.',
        responses: {
          '200': ok('The task.', {
            type: 'object',
            required: ['task', 'history'],
            properties: { task: ref('Task'), history: { type: 'array', items: ref('TaskEvent') } },
          }),
          ...errors(400, 404),
        },
      },
    },
    '/tasks/{id}/heartbeat': {
      parameters: [idParam],
      post: {
        operationId: 'heartbeat',
        tags: ['leases'],
        description:
          'Extends the lease by `leaseMs` from now. A stale token (the task was re-claimed, cancelled or finished) is a 409 stale-lease.',
        summary: `Extend the lease. ${leased}`,
        requestBody: body('Heartbeat'),
        responses: {
          '200': ok('The extended lease.', {
            type: 'object',
            required: ['lease'],
            properties: { lease: ref('Lease') },
          }),
          ...errors(400, 404, 409, ...BODY),
        },
      },
    },
    '/tasks/{id}/intent': {
      parameters: [idParam],
      put: {
        operationId: 'recordRunIntent',
        tags: ['leases'],
        description:
          'Written before the daemon asks Codegen for a run, so a run created by an attempt that then died can be ' +
          'found by its nonce and adopted instead of created twice.',
        summary: `Record the intent to create an agent run; the nonce travels in the run's metadata. ${leased}`,
        requestBody: body('RunIntent'),
        responses: {
          '200': ok('The recorded intent, with the store time it was recorded.', {
            type: 'object',
            required: ['intent'],
            properties: { intent: ref('RecordedRunIntent') },
          }),
          ...errors(400, 404, 409, ...BODY),
        },
      },
    },
    '/tasks/{id}/sightings': {
      parameters: [idParam],
      post: {
        operationId: 'noteAgentRun',
        tags: ['leases'],
        description:
          "The reconciler's report of a run it saw on Codegen that names this task; needs no lease, and the answer " +
          'says what the store made of it.',
        summary:
          'The reconciler reports an agent run that names this task: adopt it, record its late PR, or note an extra run.',
        requestBody: body('AgentRunSighting'),
        responses: {
          '200': ok('What the store did.', {
            type: 'object',
            required: ['outcome'],
            properties: { outcome: { enum: ['adopted', 'late-pr', 'extra-run', 'none'] } },
          }),
          ...errors(400, ...BODY),
        },
      },
    },
    '/tasks/{id}/status': {
      parameters: [idParam],
      put: {
        operationId: 'updateStatus',
        tags: ['leases'],
        description:
          'One body shape per intent; see the StatusChange request body. Leased writes need the current lease token; a person may retry a failed or cancelled task or cancel one without a token.',
        summary: `Change a task's status (the seed's endpoint). With a token: ${leased}`,
        requestBody: body('StatusChange'),
        responses: {
          '200': ok('`{ ok: true }`, or `{ task }` for failed, retry, and the changes without a token.', {
            oneOf: [ref('Ok'), ref('TaskEnvelope')],
          }),
          ...errors(400, 404, 409, ...BODY),
        },
      },
    },
    '/tasks/{id}/pr': {
      parameters: [idParam],
      put: {
        operationId: 'updatePullRequest',
        tags: ['leases'],
        description:
          'With a lease token, records the pull request the task produced. Without a token, only records its state as last seen on GitHub.',
        summary: `Record the task's pull request (${leased}), or without a token only its state on GitHub.`,
        requestBody: body('PullRequestChange'),
        responses: { '200': ok('Recorded.', ref('Ok')), ...errors(400, 404, 409, ...BODY) },
      },
    },
    '/tasks/{id}/feedback': {
      parameters: [idParam],
      post: {
        operationId: 'addFeedback',
        tags: ['tasks'],
        description:
          'Appends one feedback entry (a JSON object of at most 64 KiB and 32 levels) to the task, stamped with the time it arrived.',
        summary: 'Append feedback to a task.',
        requestBody: body('Feedback'),
        responses: { '200': ok('The task.', ref('TaskEnvelope')), ...errors(400, 404, ...BODY) },
      },
    },
    '/tasks/{id}/retry': {
      parameters: [idParam],
      post: {
        operationId: 'retryTask',
        tags: ['tasks'],
        description:
          'Puts a failed or cancelled task back to pending with its attempts reset; the same as PUT /tasks/{id}/status with status pending and no token.',
        summary: 'A failed or cancelled task back to pending, attempts reset (same as PUT status pending).',
        requestBody: body('Actor'),
        responses: { '200': ok('The task.', ref('TaskEnvelope')), ...errors(400, 404, 409, ...BODY) },
      },
    },
    '/tasks/{id}/cancel': {
      parameters: [idParam],
      post: {
        operationId: 'cancelTask',
        tags: ['tasks'],
        description:
          'Cancels a task that has not finished; a lease held on it becomes stale. The same as PUT /tasks/{id}/status with status cancelled.',
        summary: 'Cancel a non-terminal task; a held lease becomes stale (same as PUT status cancelled).',
        requestBody: body('Actor'),
        responses: { '200': ok('The task.', ref('TaskEnvelope')), ...errors(400, 404, 409, ...BODY) },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      basic: {
        type: 'http',
        scheme: 'basic',
        description: 'Any user name; the Task API key (or read-only key) as password.',
      },
    },
    parameters: {
      TaskId: {
        name: 'id',
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 1, maxLength: LIMITS.text, pattern: '^[\\x21-\\x7e]+$' },
      },
    },
    requestBodies: Object.fromEntries(
      Object.entries(REQUEST_BODIES).map(([name, schema]) => [
        name,
        { required: !OPTIONAL_BODIES.has(name), ...json(schema) },
      ]),
    ),
    responses: Object.fromEntries(
      Object.entries(ERROR_DESCRIPTIONS).map(([code, description]) => [`Error${code}`, ok(description, ref('Error'))]),
    ),
    schemas: SCHEMAS,
  },
} as const;
