/**
 * Every size and range limit on tasks and on the Task API, in one module: intake (validateNewTask), the daemon's
 * check of stored rows (validateStoredTask), the Task API's request parsers and OpenAPI document, the Task API
 * client (which clamps what it sends to what the API accepts) and configuration validation all read them here.
 *
 * The caps are chosen so that no real task meets them while keeping rows and prompts bounded. Text lengths are
 * counted in UTF-16 code units (JavaScript's `length`), which is never less than the character count.
 */

/** Limits on a task's own fields, wherever the task comes from. */
export const TASK_LIMITS = {
  titleMax: 300,
  /** 64 KiB of text: a long issue with logs pasted in. */
  descriptionMax: 65_536,
  labelsMax: 50,
  /** GitHub's own limit on a label name. */
  labelMax: 50,
  /** owner (at most 39) + "/" + name (at most 100): GitHub's own limits. */
  repositoryMax: 140,
  maxAttemptsMin: 1,
  maxAttemptsMax: 20,
  /** Serialized size of `context`, in characters of its JSON: 256 KiB. */
  contextMax: 262_144,
  /** How deeply `context` may nest objects and arrays; the context object itself is level 1. */
  contextDepthMax: 32,
  /** A dedupe key: printable ASCII without spaces, at most this long. */
  dedupeKeyMax: 200,
} as const;

/** What a dedupe key may hold (printable ASCII, no spaces), for validation and the OpenAPI document alike. */
export const DEDUPE_KEY_PATTERN = /^[\x21-\x7e]+$/;

/**
 * What the Task API accepts on its other routes. A client that sends more is refused with a 400, so the daemon's
 * HTTP client clamps to these and configuration validation checks the daemon's claim settings against them.
 */
export const TASK_API_LIMITS = {
  /** GET /tasks `limit`. */
  pageSize: { min: 1, max: 500, default: 50 },
  /** POST /tasks/claim `limit`: at most this many tasks per claim (BATCH_SIZE, CONCURRENCY). */
  claim: { min: 1, max: 100 },
  /** `leaseMs` of a claim or heartbeat (TASK_LEASE_MS). */
  leaseMs: { min: 1_000, max: 3_600_000 },
  /** A claim's `waitMs`: how long an empty claim may wait for a task to be added (long poll), in ms. */
  claimWaitMs: { min: 0, max: 20_000 },
  /** A claim's `maxLeaseExpiries`: fail a task whose worker was lost this many times instead of claiming it. */
  leaseExpiries: { min: 1, max: 1_000 },
  /**
   * A claim's per-repository in-flight cap (`repositoryCap.default` and each override): 0 is no cap. Repositories
   * named in one claim's overrides: at most `capOverridesMax`.
   */
  repositoryCap: { min: 0, max: 1_000 },
  capOverridesMax: 1_000,
  /** Tasks in one POST /tasks batch. */
  batch: 500,
  /** Task ids in paths, worker names, lease tokens and actors. */
  nameMax: 200,
  /** A failed task's error: category, code and message. */
  errorCategoryMax: 50,
  errorCodeMax: 100,
  errorMessageMax: 4_000,
  /** The note of a completion without a pull request. */
  noteMax: 2_000,
  /** Agent run and pull request URLs. */
  urlMax: 2_000,
  branchMax: 255,
  /** One feedback entry, in characters of its JSON: 64 KiB. */
  feedbackMax: 65_536,
  /** How deeply a feedback entry may nest; the entry itself is level 1. */
  feedbackDepthMax: 32,
  /** Page cursors are opaque but short. */
  cursorMax: 500,
  /** A request body, in bytes (1 MiB); larger bodies get a 413. */
  bodyBytesMax: 1_048_576,
} as const;
