/**
 * The one configuration schema: every option the seed documents, plus what the daemon needs to run.
 * Each key has a doc, a format, a default and (where a user would set it per deployment) an env var.
 * Precedence, lowest first: defaults, config/default.json, config/<NODE_ENV>.json, CODEGEN_PR_CONFIG file,
 * environment (including .env).
 */
import convict from 'convict';

const REPO_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

function assertStringArray(value: unknown, key: string): asserts value is string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new Error(`${key} must be a list of strings`);
  }
}

convict.addFormats({
  'string-list': {
    // Env vars arrive as "a,b,c"; files as JSON arrays.
    coerce: (value: string) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    validate: (value: unknown) => assertStringArray(value, 'value'),
  },
  'optional-repo': {
    validate: (value: unknown) => {
      if (value === '' || value === null) return;
      if (typeof value !== 'string' || !REPO_PATTERN.test(value)) {
        throw new Error('must be "owner/repo"');
      }
    },
  },
  'optional-url': {
    validate: (value: unknown) => {
      if (value === '' || value === null) return;
      if (typeof value !== 'string') throw new Error('must be a URL');
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new Error(`must be an http(s) URL, got "${value}"`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
    },
  },
  'positive-int': {
    coerce: (value: string) => Number(value),
    validate: (value: unknown) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new Error(`must be a whole number of at least 1, got ${String(value)}`);
      }
    },
  },
  percent: {
    coerce: (value: string) => Number(value),
    validate: (value: unknown) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 99) {
        throw new Error(`must be a whole number of percent from 0 to 99, got ${String(value)}`);
      }
    },
  },
  'non-negative-int': {
    coerce: (value: string) => Number(value),
    validate: (value: unknown) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw new Error(`must be a whole number of at least 0, got ${String(value)}`);
      }
    },
  },
  'repo-overrides': {
    coerce: (value: string) => JSON.parse(value) as unknown,
    validate: (value: unknown) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new Error('must be an object keyed by "owner/repo"');
      }
      for (const [repo, override] of Object.entries(value)) {
        if (!REPO_PATTERN.test(repo)) throw new Error(`key "${repo}" must be "owner/repo"`);
        if (typeof override !== 'object' || override === null) throw new Error(`"${repo}" must be an object`);
        for (const [k, v] of Object.entries(override as Record<string, unknown>)) {
          if (['labels', 'reviewers', 'teamReviewers', 'assignees'].includes(k)) assertStringArray(v, `${repo}.${k}`);
          else if (k === 'baseBranch') {
            if (typeof v !== 'string' || v === '') throw new Error(`${repo}.baseBranch must be a branch name`);
          } else if (k === 'draft') {
            if (typeof v !== 'boolean') throw new Error(`${repo}.draft must be true or false`);
          } else
            throw new Error(
              `${repo}: unknown key "${k}" (allowed: labels, reviewers, teamReviewers, assignees, baseBranch, draft)`,
            );
        }
      }
    },
  },
});

export const schema = {
  env: {
    doc: 'Deployment environment; picks config/<env>.json. In production, missing credentials stop startup.',
    format: ['development', 'test', 'production'],
    default: 'development',
    env: 'NODE_ENV',
  },
  cloudflareApi: {
    baseUrl: {
      doc: 'Base URL of the Task API (the seed\'s "Cloudflare API"). When set, tasks come from it over HTTP.',
      format: 'optional-url',
      default: '',
      env: 'CLOUDFLARE_API_URL',
    },
    apiKey: {
      doc: 'Bearer token for the Task API.',
      format: String,
      default: '',
      env: 'CLOUDFLARE_API_KEY',
      sensitive: true,
    },
    timeout: {
      doc: 'Timeout of one request to the Task API, in ms.',
      format: 'positive-int',
      default: 10_000,
      env: 'CLOUDFLARE_API_TIMEOUT_MS',
    },
  },
  taskStore: {
    kind: {
      doc: 'Where tasks live: auto (http if CLOUDFLARE_API_URL, else postgres if DATABASE_URL, else embedded pglite), http, postgres, pglite.',
      format: ['auto', 'http', 'postgres', 'pglite'],
      default: 'auto',
      env: 'TASK_STORE',
    },
    databaseUrl: {
      doc: 'PostgreSQL connection string for the postgres store (and the Task API service).',
      format: String,
      default: '',
      env: 'DATABASE_URL',
      sensitive: true,
    },
    schema: {
      doc: 'PostgreSQL schema holding the tables (postgres store and Task API); created when missing.',
      format: String,
      default: 'codegen_pr',
      env: 'DATABASE_SCHEMA',
    },
    pgliteDir: {
      doc: 'Directory of the embedded PGlite database (the default store). "memory://" keeps it in memory.',
      format: String,
      default: './data/pglite',
      env: 'PGLITE_DIR',
    },
    leaseMs: {
      doc: 'Lease length of a claimed task, in ms; the worker heartbeats at half of it.',
      format: 'positive-int',
      default: 60_000,
      env: 'TASK_LEASE_MS',
    },
  },
  github: {
    token: {
      doc: 'GitHub token (PAT or fine-grained) used to label and open PRs. Or use the GitHub App keys below.',
      format: String,
      default: '',
      env: 'GITHUB_TOKEN',
      sensitive: true,
    },
    repository: {
      doc: 'Default repository, "owner/repo"; a task\'s own repository overrides it.',
      format: 'optional-repo',
      default: '',
      env: 'GITHUB_REPOSITORY',
    },
    apiUrl: {
      doc: 'GitHub REST API base URL (https://HOST/api/v3 for GitHub Enterprise Server).',
      format: 'optional-url',
      default: 'https://api.github.com',
      env: 'GITHUB_API_URL',
    },
    appId: {
      doc: 'GitHub App id or client id, to authenticate as an App instead of a token.',
      format: String,
      default: '',
      env: 'GITHUB_APP_ID',
    },
    privateKey: {
      doc: 'GitHub App private key (PEM). Literal "\\n" sequences are turned into newlines.',
      format: String,
      default: '',
      env: 'GITHUB_APP_PRIVATE_KEY',
      sensitive: true,
    },
    installationId: {
      doc: 'GitHub App installation id.',
      format: String,
      default: '',
      env: 'GITHUB_APP_INSTALLATION_ID',
    },
    repositories: {
      doc: 'Per-repository overrides: {"owner/repo": {"labels": [], "reviewers": [], "teamReviewers": [], "assignees": [], "baseBranch": "main", "draft": false}}.',
      format: 'repo-overrides',
      default: {},
      env: 'GITHUB_REPOSITORIES',
    },
    writeMinTimeMs: {
      doc: 'Least time between two GitHub write requests, in ms (GitHub asks for 1 s).',
      format: 'non-negative-int',
      default: 1000,
      env: 'GITHUB_WRITE_MIN_TIME_MS',
    },
    notificationMinTimeMs: {
      doc: 'Least time between two GitHub requests that notify people (PR creation, review requests), in ms.',
      format: 'non-negative-int',
      default: 3000,
      env: 'GITHUB_NOTIFICATION_MIN_TIME_MS',
    },
    requestTimeout: {
      doc: 'Timeout of one GitHub request, in ms.',
      format: 'positive-int',
      default: 30_000,
      env: 'GITHUB_TIMEOUT_MS',
    },
  },
  codegen: {
    apiUrl: {
      doc: 'Codegen API base URL.',
      format: 'optional-url',
      default: 'https://api.codegen.com',
      env: 'CODEGEN_API_URL',
    },
    apiKey: {
      doc: 'Codegen API token (from codegen.com/token).',
      format: String,
      default: '',
      env: 'CODEGEN_API_KEY',
      sensitive: true,
    },
    orgId: {
      doc: 'Codegen organization id.',
      format: String,
      default: '',
      env: 'CODEGEN_ORG_ID',
    },
    requestTimeout: {
      doc: 'Timeout of one Codegen request, in ms.',
      format: 'positive-int',
      default: 30_000,
      env: 'CODEGEN_TIMEOUT_MS',
    },
    pollInitialMs: {
      doc: 'First wait between polls of an agent run, in ms; it grows by pollBackoff up to pollMaxMs.',
      format: 'positive-int',
      default: 5_000,
      env: 'CODEGEN_POLL_INITIAL_MS',
    },
    pollMaxMs: {
      doc: 'Longest wait between polls of an agent run, in ms.',
      format: 'positive-int',
      default: 60_000,
      env: 'CODEGEN_POLL_MAX_MS',
    },
    pollBackoff: {
      doc: 'Growth factor of the poll interval.',
      format: Number,
      default: 1.5,
      env: 'CODEGEN_POLL_BACKOFF',
    },
    pausedPolicy: {
      doc: 'What to do with a PAUSED run: wait (until the timeout), resume (send a resume prompt once), fail.',
      format: ['wait', 'resume', 'fail'],
      default: 'resume',
      env: 'CODEGEN_PAUSED_POLICY',
    },
    model: {
      doc: 'Model for agent runs; empty uses the organization default.',
      format: String,
      default: '',
      env: 'CODEGEN_MODEL',
    },
    agentType: {
      doc: 'Agent type: codegen or claude_code; empty uses the organization default.',
      format: ['', 'codegen', 'claude_code'],
      default: '',
      env: 'CODEGEN_AGENT_TYPE',
    },
  },
  processing: {
    pollInterval: {
      doc: 'How often the scheduler looks for tasks when the pool has free slots, in ms.',
      format: 'positive-int',
      default: 30_000,
      env: 'POLL_INTERVAL_MS',
    },
    batchSize: {
      doc: 'Most tasks claimed in one poll.',
      format: 'positive-int',
      default: 10,
      env: 'BATCH_SIZE',
    },
    concurrency: {
      doc: 'Most tasks in flight at once in this process (the pool size).',
      format: 'positive-int',
      default: 5,
      env: 'CONCURRENCY',
    },
    maxRetries: {
      doc: 'Retries after the first attempt of a task (a task gets maxRetries + 1 attempts).',
      format: 'non-negative-int',
      default: 3,
      env: 'MAX_RETRIES',
    },
    timeout: {
      doc: 'Longest wait for one agent run, in ms, before the attempt fails as a timeout.',
      format: 'positive-int',
      default: 300_000,
      env: 'TASK_TIMEOUT_MS',
    },
    shutdownGraceMs: {
      doc: 'On SIGTERM/SIGINT, how long in-flight tasks may finish before they are aborted and released, in ms.',
      format: 'non-negative-int',
      default: 30_000,
      env: 'SHUTDOWN_GRACE_MS',
    },
    shutdownSignalWindowMs: {
      doc: 'Repeated SIGTERM/SIGINT within this many ms of the first count as one (orchestrators often send two); a later one exits at once.',
      format: 'non-negative-int',
      default: 5_000,
      env: 'SHUTDOWN_SIGNAL_WINDOW_MS',
    },
    dryRun: {
      doc: 'Generate and log prompts but call neither Codegen nor GitHub. Forced on when credentials are missing outside production.',
      format: Boolean,
      default: false,
      env: 'DRY_RUN',
    },
  },
  auth: {
    validateOnStartup: {
      doc: 'Check the Codegen token with GET /v1/users/me at startup.',
      format: Boolean,
      default: true,
      env: 'AUTH_VALIDATE_ON_STARTUP',
    },
    probeIntervalMs: {
      doc: 'After an authentication error intake pauses; the token is re-checked this often, in ms.',
      format: 'positive-int',
      default: 60_000,
      env: 'AUTH_PROBE_INTERVAL_MS',
    },
  },
  promptGenerator: {
    templates: {
      feature: {
        doc: 'Template for feature tasks.',
        format: String,
        default: 'feature_template',
        env: 'PROMPT_TEMPLATE_FEATURE',
      },
      bugfix: {
        doc: 'Template for bug fixes.',
        format: String,
        default: 'bugfix_template',
        env: 'PROMPT_TEMPLATE_BUGFIX',
      },
      refactor: {
        doc: 'Template for refactors.',
        format: String,
        default: 'refactor_template',
        env: 'PROMPT_TEMPLATE_REFACTOR',
      },
      documentation: {
        doc: 'Template for documentation tasks.',
        format: String,
        default: 'docs_template',
        env: 'PROMPT_TEMPLATE_DOCUMENTATION',
      },
      test: { doc: 'Template for test tasks.', format: String, default: 'test_template', env: 'PROMPT_TEMPLATE_TEST' },
      default: {
        doc: 'Template for anything else.',
        format: String,
        default: 'default_template',
        env: 'PROMPT_TEMPLATE_DEFAULT',
      },
    },
    templatesDir: {
      doc: 'Directory of user templates (<name>.md) that replace or add to the built-in ones.',
      format: String,
      default: '',
      env: 'PROMPT_TEMPLATES_DIR',
    },
    codeStyle: {
      language: {
        doc: 'Language the agent should write.',
        format: String,
        default: 'typescript',
        env: 'PROMPT_LANGUAGE',
      },
      framework: { doc: 'Framework in use.', format: String, default: 'node', env: 'PROMPT_FRAMEWORK' },
      testFramework: { doc: 'Test framework.', format: String, default: 'jest', env: 'PROMPT_TEST_FRAMEWORK' },
      linting: { doc: 'Linter.', format: String, default: 'eslint', env: 'PROMPT_LINTER' },
      formatting: { doc: 'Formatter.', format: String, default: 'prettier', env: 'PROMPT_FORMATTER' },
    },
    context: {
      includeFileStructure: {
        doc: "Include the task's file list.",
        format: Boolean,
        default: true,
        env: 'PROMPT_INCLUDE_FILE_STRUCTURE',
      },
      includeRelatedFiles: {
        doc: 'Include related files named in the task.',
        format: Boolean,
        default: true,
        env: 'PROMPT_INCLUDE_RELATED_FILES',
      },
      includeDependencies: {
        doc: 'Include dependencies named in the task.',
        format: Boolean,
        default: true,
        env: 'PROMPT_INCLUDE_DEPENDENCIES',
      },
      maxContextLength: {
        doc: 'Most characters of task context put into a prompt.',
        format: 'positive-int',
        default: 8000,
        env: 'PROMPT_MAX_CONTEXT_LENGTH',
      },
    },
    quality: {
      requireTests: { doc: 'Ask for tests.', format: Boolean, default: true, env: 'PROMPT_REQUIRE_TESTS' },
      requireDocumentation: {
        doc: 'Ask for documentation.',
        format: Boolean,
        default: true,
        env: 'PROMPT_REQUIRE_DOCUMENTATION',
      },
      requireTypeChecking: {
        doc: 'Ask for type checking to pass.',
        format: Boolean,
        default: false,
        env: 'PROMPT_REQUIRE_TYPE_CHECKING',
      },
      requireErrorHandling: {
        doc: 'Ask for error handling.',
        format: Boolean,
        default: true,
        env: 'PROMPT_REQUIRE_ERROR_HANDLING',
      },
    },
  },
  prManager: {
    branches: {
      prefix: {
        doc: 'Branch name prefix the agent is asked to use; the task id follows it.',
        format: String,
        default: 'codegen/task-',
        env: 'PR_BRANCH_PREFIX',
      },
      baseBranch: { doc: 'Base branch of PRs.', format: String, default: 'main', env: 'PR_BASE_BRANCH' },
      autoDelete: {
        doc: 'Ask for the branch to be deleted on merge.',
        format: Boolean,
        default: false,
        env: 'PR_BRANCH_AUTO_DELETE',
      },
    },
    pr: {
      autoAssign: {
        doc: 'Assign the PR to the assignees below.',
        format: Boolean,
        default: true,
        env: 'PR_AUTO_ASSIGN',
      },
      assignees: { doc: 'Assignees of every PR.', format: 'string-list', default: [], env: 'PR_ASSIGNEES' },
      defaultReviewers: {
        doc: 'Reviewers requested on every PR (the PR author is always left out).',
        format: 'string-list',
        default: [],
        env: 'PR_REVIEWERS',
      },
      teamReviewers: {
        doc: 'Team slugs requested as reviewers.',
        format: 'string-list',
        default: [],
        env: 'PR_TEAM_REVIEWERS',
      },
      labels: {
        doc: 'Labels on every PR.',
        format: 'string-list',
        default: ['codegen', 'automated'],
        env: 'PR_LABELS',
      },
      draft: { doc: 'Open PRs as drafts.', format: Boolean, default: false, env: 'PR_DRAFT' },
      onNoChanges: {
        doc: 'A run that ends with no PR and no branch: fail the task, or complete it without a PR (with a note).',
        format: ['fail', 'complete'],
        default: 'fail',
        env: 'PR_ON_NO_CHANGES',
      },
      taskUrlTemplate: {
        doc: 'Link to a task put in the PR body; {id} is replaced. Empty uses <CLOUDFLARE_API_URL>/tasks/{id}.',
        format: String,
        default: '',
        env: 'PR_TASK_URL_TEMPLATE',
      },
    },
    commits: {
      messageTemplate: {
        doc: 'Commit message the agent is asked to use; {{TASK_TITLE}} and {{TASK_DESCRIPTION}} are replaced.',
        format: String,
        default: 'feat: {{TASK_TITLE}}\n\n{{TASK_DESCRIPTION}}',
        env: 'PR_COMMIT_MESSAGE_TEMPLATE',
      },
      signOff: { doc: 'Ask for Signed-off-by lines.', format: Boolean, default: false, env: 'PR_COMMIT_SIGN_OFF' },
      gpgSign: { doc: 'Ask for signed commits.', format: Boolean, default: false, env: 'PR_COMMIT_GPG_SIGN' },
    },
  },
  feedbackHandler: {
    retry: {
      maxRetries: {
        doc: "The seed's FeedbackHandler retry count; processing.maxRetries (MAX_RETRIES) is the one the daemon uses.",
        format: 'non-negative-int',
        default: 3,
        env: 'FEEDBACK_MAX_RETRIES',
      },
      baseDelay: { doc: 'First retry delay, ms.', format: 'positive-int', default: 1000, env: 'RETRY_BASE_DELAY_MS' },
      maxDelay: { doc: 'Longest retry delay, ms.', format: 'positive-int', default: 30_000, env: 'RETRY_MAX_DELAY_MS' },
      backoffMultiplier: {
        doc: 'Growth of the retry delay.',
        format: Number,
        default: 2,
        env: 'RETRY_BACKOFF_MULTIPLIER',
      },
      jitter: { doc: 'Spread retry delays by +-10%.', format: Boolean, default: true, env: 'RETRY_JITTER' },
    },
    feedback: {
      enableLearning: {
        doc: "Amend the next attempt's prompt from what failed.",
        format: Boolean,
        default: true,
        env: 'FEEDBACK_ENABLE_LEARNING',
      },
      patternAnalysis: {
        doc: 'Track failure patterns per category.',
        format: Boolean,
        default: true,
        env: 'FEEDBACK_PATTERN_ANALYSIS',
      },
      errorCategorization: {
        doc: "Classify errors into the seed's categories.",
        format: Boolean,
        default: true,
        env: 'FEEDBACK_ERROR_CATEGORIZATION',
      },
      successPatternTracking: {
        doc: 'Track what succeeded.',
        format: Boolean,
        default: true,
        env: 'FEEDBACK_SUCCESS_PATTERN_TRACKING',
      },
    },
    thresholds: {
      errorRateThreshold: {
        doc: 'Error rate (0..1, over the last 20 tasks) above which intake slows down.',
        format: Number,
        default: 0.3,
        env: 'FEEDBACK_ERROR_RATE_THRESHOLD',
      },
      retryDelayIncrease: {
        doc: 'Factor applied to the poll interval while above the threshold.',
        format: Number,
        default: 1.5,
        env: 'FEEDBACK_RETRY_DELAY_INCREASE',
      },
      maxConsecutiveFailures: {
        doc: 'Consecutive failures after which intake pauses for one maxDelay.',
        format: 'positive-int',
        default: 5,
        env: 'FEEDBACK_MAX_CONSECUTIVE_FAILURES',
      },
    },
  },
  rateLimits: {
    codegenCreatePerMinute: {
      doc: 'Agent runs created per minute (Codegen allows 10).',
      format: 'positive-int',
      default: 10,
      env: 'CODEGEN_CREATE_PER_MINUTE',
    },
    codegenRequestsPer30s: {
      doc: 'Other Codegen requests per 30 s (Codegen allows 60).',
      format: 'positive-int',
      default: 60,
      env: 'CODEGEN_REQUESTS_PER_30S',
    },
    headroom: {
      doc: 'Percent of each documented rate limit left unused as a margin: 10 turns 10 per minute into 9, spaced 6.67 s.',
      format: 'percent',
      default: 10,
      env: 'RATE_LIMIT_HEADROOM',
    },
    replicas: {
      doc: 'Replicas sharing the rate limits. Without Redis (or while it is unreachable) each uses 1/replicas of every limit.',
      format: 'positive-int',
      default: 1,
      env: 'REPLICAS',
    },
    redisUrl: {
      doc: 'Redis URL; when set, rate-limit budgets are shared by every replica.',
      format: String,
      default: '',
      env: 'REDIS_URL',
      sensitive: true,
    },
    maxRetryAfterMs: {
      doc: 'Longest server-advised wait (Retry-After) honoured inline; longer ones reschedule the task.',
      format: 'positive-int',
      default: 60_000,
      env: 'MAX_RETRY_AFTER_MS',
    },
  },
  breaker: {
    errorThresholdPercentage: {
      doc: "Failure percentage that opens a dependency's circuit.",
      format: 'positive-int',
      default: 50,
      env: 'BREAKER_ERROR_PERCENT',
    },
    resetTimeoutMs: {
      doc: 'How long an open circuit waits before a trial request, ms.',
      format: 'positive-int',
      default: 30_000,
      env: 'BREAKER_RESET_MS',
    },
    volumeThreshold: {
      doc: 'Requests in the window before the circuit may open.',
      format: 'positive-int',
      default: 10,
      env: 'BREAKER_VOLUME_THRESHOLD',
    },
  },
  server: {
    port: {
      doc: "Port of the daemon's HTTP endpoint (/metrics, /healthz, /readyz, /status); 0 picks a free one.",
      format: 'port',
      default: 9464,
      env: 'PORT',
    },
    host: { doc: 'Address the HTTP endpoint binds.', format: String, default: '0.0.0.0', env: 'HOST' },
  },
  taskApi: {
    port: {
      doc: 'Port of the Task API service (codegen-pr task-api).',
      format: 'port',
      default: 8787,
      env: 'TASK_API_PORT',
    },
    host: { doc: 'Address the Task API binds.', format: String, default: '0.0.0.0', env: 'TASK_API_HOST' },
    apiKey: {
      doc: 'Bearer token the Task API service requires (falls back to CLOUDFLARE_API_KEY).',
      format: String,
      default: '',
      env: 'TASK_API_KEY',
      sensitive: true,
    },
  },
  log: {
    level: {
      doc: 'Log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
    },
  },
  worker: {
    name: {
      doc: 'Name of this replica in leases and task history; empty uses host:pid.',
      format: String,
      default: '',
      env: 'WORKER_NAME',
    },
  },
} as const;

export type AppConfigSchema = typeof schema;
