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
const errors = (...codes: number[]) =>
  Object.fromEntries(
    [401, ...codes, 500].map((code) => [String(code), { $ref: `#/components/responses/Error${code}` }]),
  );
const idParam = { $ref: '#/components/parameters/TaskId' };
const leased = 'Needs the lease token of the claim; a stale token is a 409 stale-lease.';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `fields` names every bad field.',
  401: 'Missing or wrong bearer token.',
  404: 'No such task (task-not-found) or route (not-found).',
  409: 'Conflict: stale-lease, invalid-transition or task-exists.',
  413: 'Request body too large.',
  500: 'Internal error; the detail is only in the server log.',
};

/** The document served at /openapi.json. */
export const TASK_API_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'codegen-pr Task API',
    version: '1.0.0',
    description:
      'The task queue of codegen-pr over HTTP (the seed\'s "Cloudflare API" in front of PostgreSQL). Every route ' +
      'but /health and /openapi.json needs `Authorization: Bearer <key>`. Errors are `{ error, message, fields? }`.',
  },
  security: [{ bearer: [] }],
  paths: {
    '/health': {
      get: {
        operationId: 'health',
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
        security: [],
        summary: 'This document.',
        responses: { '200': ok('OpenAPI 3.1.', { type: 'object' }) },
      },
    },
    '/stats': {
      get: {
        operationId: 'countByStatus',
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
        summary: 'Create one task, or a batch as { tasks: [...] }. An existing id is a 409 task-exists.',
        requestBody: body('CreateTasks'),
        responses: {
          '201': ok('The created tasks.', {
            type: 'object',
            required: ['tasks'],
            properties: { tasks: { type: 'array', items: ref('Task') } },
          }),
          ...errors(400, 409, 413),
        },
      },
    },
    '/tasks/claim': {
      post: {
        operationId: 'claimTasks',
        summary: 'Atomically claim up to `limit` claimable tasks, each with a new lease.',
        requestBody: body('Claim'),
        responses: {
          '200': ok('The claimed tasks (maybe none).', {
            type: 'object',
            required: ['tasks'],
            properties: { tasks: { type: 'array', items: ref('ClaimedTask') } },
          }),
          ...errors(400),
        },
      },
    },
    '/tasks/{id}': {
      parameters: [idParam],
      get: {
        operationId: 'getTask',
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
        summary: `Extend the lease. ${leased}`,
        requestBody: body('Heartbeat'),
        responses: {
          '200': ok('The extended lease.', {
            type: 'object',
            required: ['lease'],
            properties: { lease: ref('Lease') },
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    '/tasks/{id}/intent': {
      parameters: [idParam],
      put: {
        operationId: 'recordRunIntent',
        summary: `Record the intent to create an agent run; the nonce travels in the run's metadata. ${leased}`,
        requestBody: body('RunIntent'),
        responses: {
          '200': ok('The recorded intent, with the store time it was recorded.', {
            type: 'object',
            required: ['intent'],
            properties: { intent: ref('RecordedRunIntent') },
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    '/tasks/{id}/sightings': {
      parameters: [idParam],
      post: {
        operationId: 'noteAgentRun',
        summary:
          'The reconciler reports an agent run that names this task: adopt it, record its late PR, or note an extra run.',
        requestBody: body('AgentRunSighting'),
        responses: {
          '200': ok('What the store did.', {
            type: 'object',
            required: ['outcome'],
            properties: { outcome: { enum: ['adopted', 'late-pr', 'extra-run', 'none'] } },
          }),
          ...errors(400),
        },
      },
    },
    '/tasks/{id}/status': {
      parameters: [idParam],
      put: {
        operationId: 'updateStatus',
        summary: `Change a task's status (the seed's endpoint). With a token: ${leased}`,
        requestBody: body('StatusChange'),
        responses: {
          '200': ok('`{ ok: true }`, or `{ task }` for failed, retry, and the changes without a token.', {
            oneOf: [ref('Ok'), ref('TaskEnvelope')],
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    '/tasks/{id}/pr': {
      parameters: [idParam],
      put: {
        operationId: 'updatePullRequest',
        summary: `Record the task's pull request (${leased}), or without a token only its state on GitHub.`,
        requestBody: body('PullRequestChange'),
        responses: { '200': ok('Recorded.', ref('Ok')), ...errors(400, 404, 409) },
      },
    },
    '/tasks/{id}/feedback': {
      parameters: [idParam],
      post: {
        operationId: 'addFeedback',
        summary: 'Append feedback to a task.',
        requestBody: body('Feedback'),
        responses: { '200': ok('The task.', ref('TaskEnvelope')), ...errors(400, 404) },
      },
    },
    '/tasks/{id}/retry': {
      parameters: [idParam],
      post: {
        operationId: 'retryTask',
        summary: 'A failed or cancelled task back to pending, attempts reset (same as PUT status pending).',
        requestBody: body('Actor'),
        responses: { '200': ok('The task.', ref('TaskEnvelope')), ...errors(400, 404, 409) },
      },
    },
    '/tasks/{id}/cancel': {
      parameters: [idParam],
      post: {
        operationId: 'cancelTask',
        summary: 'Cancel a non-terminal task; a held lease becomes stale (same as PUT status cancelled).',
        requestBody: body('Actor'),
        responses: { '200': ok('The task.', ref('TaskEnvelope')), ...errors(400, 404, 409) },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
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
