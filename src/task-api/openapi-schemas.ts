/**
 * JSON Schemas (OpenAPI 3.1 components) of what the Task API sends and accepts. They say the same as the
 * hand-written validators in requests.ts and the domain types in domain/task.ts; a test checks example traffic
 * against them.
 */
import { TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES } from '../domain/task.js';
import { DEDUPE_KEY_PATTERN, TASK_API_LIMITS } from '../domain/task-limits.js';
import { LINE_TEXT_PATTERN, REPOSITORY_PATTERN, STORABLE_TEXT_PATTERN } from '../domain/task-text.js';
import { TASK_ID_PATTERN, TASK_LIMITS } from '../domain/task-validation.js';
import { LIMITS } from './requests.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', minLength: 1, ...extra });
const name = str({ maxLength: LIMITS.text, pattern: '^[\\x21-\\x7e]+$' });
const dateTime = { type: 'string', format: 'date-time' };
const httpUrl = str({ maxLength: 2000, pattern: '^https?://\\S+$' });
const obj = (properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: false,
  ...extra,
});

const capCount = {
  type: 'integer',
  minimum: TASK_API_LIMITS.repositoryCap.min,
  maximum: TASK_API_LIMITS.repositoryCap.max,
};

const pullRequest = {
  url: httpUrl,
  number: { type: 'integer', minimum: 1 },
  branch: str({ maxLength: 255 }),
  state: { enum: ['open', 'merged', 'closed'] },
};

const taskError = obj(
  {
    category: str({ maxLength: TASK_API_LIMITS.errorCategoryMax, pattern: LINE_TEXT_PATTERN }),
    code: str({ maxLength: TASK_API_LIMITS.errorCodeMax, pattern: LINE_TEXT_PATTERN }),
    message: str({ maxLength: TASK_API_LIMITS.errorMessageMax, pattern: STORABLE_TEXT_PATTERN }),
  },
  ['category', 'code', 'message'],
);

/** The shared schemas, referenced from the paths as #/components/schemas/<Name>. */
export const SCHEMAS: Record<string, unknown> = {
  TaskStatus: { enum: [...TASK_STATUSES] },
  TaskPriority: { enum: [...TASK_PRIORITIES] },
  TaskType: { enum: [...TASK_TYPES] },
  PullRequestRef: obj(pullRequest, ['url', 'number', 'branch']),
  TaskError: taskError,
  TaskCheckpoint: obj({
    agentRunId: { type: 'integer' },
    agentRunUrl: { type: 'string' },
    pr: ref('PullRequestRef'),
    runIntent: ref('RecordedRunIntent'),
  }),
  RecordedRunIntent: obj({ nonce: { type: 'string' }, at: dateTime }, ['nonce', 'at']),
  Task: {
    type: 'object',
    required: [
      'id',
      'title',
      'description',
      'type',
      'priority',
      'labels',
      'status',
      'attempts',
      'maxAttempts',
      'checkpoint',
      'createdAt',
      'updatedAt',
    ],
    properties: {
      id: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      // Stored rows are not constrained to the enums (a malformed row stays claimable so the daemon can fail it).
      type: { type: 'string', description: 'One of TaskType for tasks created through the API.' },
      priority: { type: 'string', description: 'One of TaskPriority for tasks created through the API.' },
      labels: {
        type: 'array',
        items: { type: 'string' },
        description:
          'Label names. Like every field here, returned as stored: a row written into the table by hand may break the rules of NewTask, and the daemon fails such a task naming the field.',
      },
      repository: { type: 'string' },
      context: { type: 'object' },
      status: ref('TaskStatus'),
      attempts: { type: 'integer', minimum: 0 },
      maxAttempts: { type: 'integer', minimum: 1 },
      nextRunAt: dateTime,
      checkpoint: ref('TaskCheckpoint'),
      lastError: ref('TaskError'),
      feedback: { type: 'array', items: { type: 'object' }, description: 'Feedback entries, oldest first.' },
      startedAt: dateTime,
      leaseExpiries: { type: 'integer', minimum: 0 },
      dedupeKey: { type: 'string', description: 'The dedupe key the task was added with.' },
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  NewTask: {
    type: 'object',
    description: 'A task to create. Checked by validateNewTask; every bad field is named in the 400.',
    required: ['title', 'description'],
    properties: {
      id: { type: 'string', pattern: TASK_ID_PATTERN.source },
      title: str({
        maxLength: TASK_LIMITS.titleMax,
        pattern: LINE_TEXT_PATTERN,
        description: 'One line: control, escape and invisible characters (bidi overrides, zero-width) are refused.',
      }),
      description: str({
        maxLength: TASK_LIMITS.descriptionMax,
        pattern: STORABLE_TEXT_PATTERN,
        description:
          'NUL and unpaired surrogates are refused. Tab and newline are kept; CR becomes a newline; every other ' +
          'control, escape sequence and invisible character is removed. Refused if nothing is left.',
      }),
      type: ref('TaskType'),
      priority: ref('TaskPriority'),
      labels: {
        type: 'array',
        items: str({ maxLength: TASK_LIMITS.labelMax, pattern: LINE_TEXT_PATTERN }),
        maxItems: TASK_LIMITS.labelsMax,
        description: 'Trimmed and de-duplicated; each one line, like the title.',
      },
      repository: {
        type: 'string',
        maxLength: TASK_LIMITS.repositoryMax,
        pattern: REPOSITORY_PATTERN.source,
        description:
          "GitHub's owner/name: an owner of 1-39 letters, digits or single hyphens (not at either end), a name of " +
          '1-100 letters, digits, ".", "_" or "-" that is not "." or "..".',
      },
      maxAttempts: { type: 'integer', minimum: TASK_LIMITS.maxAttemptsMin, maximum: TASK_LIMITS.maxAttemptsMax },
      context: {
        type: 'object',
        description:
          `Free-form JSON for the prompt: at most ${TASK_LIMITS.contextMax} characters serialized and ` +
          `${TASK_LIMITS.contextDepthMax} levels of nesting; no key or string may hold NUL or an unpaired surrogate.`,
      },
      dedupeKey: str({
        maxLength: TASK_LIMITS.dedupeKeyMax,
        pattern: DEDUPE_KEY_PATTERN.source,
        description:
          'Optional: while a task with this key is live (not completed, failed or cancelled), another with the same key is refused with 409 task-duplicate naming the live task in existingTaskId. Two tasks of one batch may not share a key.',
      }),
    },
    additionalProperties: false,
  },
  Lease: obj({ owner: { type: 'string' }, token: { type: 'string' }, expiresAt: dateTime }, [
    'owner',
    'token',
    'expiresAt',
  ]),
  ClaimedTask: obj({ task: ref('Task'), lease: ref('Lease') }, ['task', 'lease']),
  TaskEvent: {
    type: 'object',
    required: ['id', 'taskId', 'at', 'actor', 'kind'],
    properties: {
      id: { type: 'integer' },
      taskId: { type: 'string' },
      at: dateTime,
      actor: { type: 'string' },
      kind: { type: 'string' },
      fromStatus: ref('TaskStatus'),
      toStatus: ref('TaskStatus'),
      detail: { type: 'object' },
    },
  },
  Error: {
    type: 'object',
    required: ['error', 'message'],
    description:
      'error is a stable code: validation, unauthorized, not-found, task-not-found, task-exists, task-duplicate, ' +
      'stale-lease, invalid-transition, payload-too-large, internal.',
    properties: {
      error: { type: 'string' },
      message: { type: 'string' },
      existingTaskId: {
        type: 'string',
        description: 'With task-duplicate: the live task that holds the dedupe key (the one to use instead).',
      },
      fields: {
        type: 'array',
        items: obj({ field: { type: 'string' }, message: { type: 'string' } }, ['field', 'message']),
      },
    },
  },
  Ok: obj({ ok: { const: true } }, ['ok']),
  TaskEnvelope: obj({ task: ref('Task') }, ['task']),
};

/** Request bodies, one per operation that takes one. */
export const REQUEST_BODIES: Record<string, unknown> = {
  CreateTasks: {
    oneOf: [
      ref('NewTask'),
      obj({ tasks: { type: 'array', items: ref('NewTask'), minItems: 1, maxItems: LIMITS.batch }, actor: name }, [
        'tasks',
      ]),
    ],
  },
  Claim: obj(
    {
      worker: name,
      limit: { type: 'integer', minimum: LIMITS.claim.min, maximum: LIMITS.claim.max },
      leaseMs: { type: 'integer', minimum: LIMITS.leaseMs.min, maximum: LIMITS.leaseMs.max },
      taskIds: {
        type: 'array',
        items: name,
        minItems: 1,
        maxItems: LIMITS.claim.max,
        description: 'Claim only these tasks.',
      },
      maxLeaseExpiries: {
        type: 'integer',
        minimum: 1,
        maximum: LIMITS.leaseExpiries.max,
        description: 'Fail instead of claiming a task whose worker was lost this many times. Default 10.',
      },
      waitMs: {
        type: 'integer',
        minimum: LIMITS.claimWaitMs.min,
        maximum: LIMITS.claimWaitMs.max,
        description:
          'Long poll: when no task is claimable, wait up to this many ms for one to be added, retried or released, then claim once more. A server without a wake-up source (the Worker) answers at once. Default 0.',
      },
      repositoryCap: obj(
        {
          default: { ...capCount, description: 'Cap of every repository not named in overrides; 0 is no cap.' },
          overrides: {
            type: 'object',
            maxProperties: TASK_API_LIMITS.capOverridesMax,
            propertyNames: { pattern: REPOSITORY_PATTERN.source },
            additionalProperties: capCount,
            description: 'Caps by "owner/repo"; 0 lifts the default for that repository.',
          },
          unnamedAs: str({
            maxLength: TASK_LIMITS.repositoryMax,
            pattern: REPOSITORY_PATTERN.source,
            description: "Count tasks that name no repository as this one (the daemon's default repository).",
          }),
        },
        ['default'],
        {
          description:
            'Per-repository in-flight cap: no task is claimed whose repository already has its cap of tasks held under a live lease (claimed or awaiting_agent); the claim moves on to other repositories instead.',
        },
      ),
    },
    ['worker', 'limit', 'leaseMs'],
  ),
  RunIntent: obj({ token: name, nonce: str({ minLength: 8, maxLength: 100 }) }, ['token', 'nonce']),
  AgentRunSighting: obj(
    {
      runId: { type: 'integer', minimum: 1 },
      url: httpUrl,
      state: { enum: ['live', 'succeeded', 'failed'] },
      intent: str({ minLength: 8, maxLength: 100 }),
      pr: ref('PullRequestRef'),
    },
    ['runId', 'state'],
  ),
  Heartbeat: obj(
    { token: name, leaseMs: { type: 'integer', minimum: LIMITS.leaseMs.min, maximum: LIMITS.leaseMs.max } },
    ['token', 'leaseMs'],
  ),
  StatusChange: {
    description:
      'With a lease token: the daemon leased write (awaiting_agent + agentRun records the agent run; completed ' +
      'completes; failed or retry fails, retry needing retryAt; pending releases). Without a token: pending ' +
      '(retry a failed or cancelled task) or cancelled.',
    oneOf: [
      obj(
        {
          status: { const: 'awaiting_agent' },
          token: name,
          agentRun: obj({ id: { type: 'integer', minimum: 1 }, url: httpUrl }, ['id']),
        },
        ['status', 'token', 'agentRun'],
      ),
      obj({ status: { const: 'completed' }, token: name, pr: ref('PullRequestRef'), note: str({ maxLength: 2000 }) }, [
        'status',
        'token',
      ]),
      obj(
        {
          status: { const: 'failed' },
          token: name,
          error: taskError,
          countAttempt: { type: 'boolean' },
          dropRun: { type: 'boolean' },
        },
        ['status', 'token', 'error'],
      ),
      obj(
        {
          status: { const: 'retry' },
          token: name,
          error: taskError,
          retryAt: dateTime,
          countAttempt: { type: 'boolean' },
          dropRun: { type: 'boolean' },
        },
        ['status', 'token', 'error', 'retryAt'],
      ),
      obj({ status: { const: 'pending' }, token: name }, ['status', 'token']),
      obj({ status: { enum: ['pending', 'cancelled'] }, actor: name }, ['status']),
    ],
  },
  PullRequestChange: {
    oneOf: [
      obj({ token: name, ...pullRequest }, ['token', 'url', 'number', 'branch']),
      obj({ state: pullRequest.state }, ['state']),
    ],
  },
  Feedback: obj(
    {
      feedback: {
        type: 'object',
        minProperties: 1,
        description:
          `At most ${TASK_API_LIMITS.feedbackMax} characters serialized and ${TASK_API_LIMITS.feedbackDepthMax} ` +
          'levels of nesting; no key or string may hold NUL or an unpaired surrogate.',
      },
      actor: name,
    },
    ['feedback'],
  ),
  Actor: obj({ actor: name }),
};
