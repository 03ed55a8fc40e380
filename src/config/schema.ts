/**
 * The one configuration schema: every option the seed documents, plus what the daemon needs to run.
 * Each key has a doc, a format, a default and (where a user would set it per deployment) an env var.
 * Precedence, lowest first: defaults, config/default.json, config/<NODE_ENV>.json, CODEGEN_PR_CONFIG file,
 * environment (including .env).
 */
/**
 * convict takes any schema node with a `default` property for a single option. The templates group has a
 * child named `default` (the seed's task type), so convict would read the whole group as one value and
 * ignore its six variables. This view hides that child from `in` tests only; reads and key listings still
 * see it, so convict walks into the group and gives each template its own key and variable.
 */
function groupWithDefaultChild<T extends object>(group: T): T {
  return new Proxy(group, { has: (target, key) => key !== 'default' && Reflect.has(target, key) });
}

/**
 * Every key: doc (the README's "What it does"), format (a name from formats.ts, or the allowed values), default,
 * env. `sensitive` values never appear in output. Lists are written comma-separated or as a JSON array.
 */
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
      format: 'secret',
      default: '',
      env: 'CLOUDFLARE_API_KEY',
      sensitive: true,
    },
    timeout: {
      doc: 'Timeout of one request to the Task API, in ms.',
      format: 'timer-ms',
      default: 10_000,
      env: 'CLOUDFLARE_API_TIMEOUT_MS',
    },
  },
  taskStore: {
    kind: {
      doc: 'Where tasks live: auto (http if CLOUDFLARE_API_URL, else postgres if DATABASE_URL, else embedded sqlite), http, postgres, sqlite, pglite.',
      format: ['auto', 'http', 'postgres', 'sqlite', 'pglite'],
      default: 'auto',
      env: 'TASK_STORE',
    },
    databaseUrl: {
      doc: 'PostgreSQL connection string for the postgres store (and the Task API service).',
      format: 'postgres-url',
      default: '',
      env: 'DATABASE_URL',
      sensitive: true,
    },
    schema: {
      doc: 'PostgreSQL schema holding the tables (postgres store and Task API); created when missing.',
      format: 'schema-name',
      default: 'codegen_pr',
      env: 'DATABASE_SCHEMA',
    },
    dataDir: {
      doc: 'Directory of the embedded store (the default): codegen-pr.db, and owner.lock/owner.json by which the daemon, task-api and CLI share it. "memory://": in memory. CodegenClient (library) defaults to memory://.',
      format: 'path',
      default: './data',
      env: 'DATA_DIR',
    },
    pgliteDir: {
      doc: 'Directory of the embedded PGlite database (TASK_STORE=pglite); its owner files go beside it. "memory://" keeps it in memory.',
      format: 'path',
      default: './data/pglite',
      env: 'PGLITE_DIR',
    },
    leaseMs: {
      doc: 'Lease length of a claimed task, in ms; the worker heartbeats at half of it.',
      format: 'lease-ms',
      default: 60_000,
      env: 'TASK_LEASE_MS',
    },
  },
  github: {
    token: {
      doc: 'GitHub token (PAT or fine-grained) used to label and open PRs. Or use the GitHub App keys below.',
      format: 'secret',
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
      format: 'http-url',
      default: 'https://api.github.com',
      env: 'GITHUB_API_URL',
    },
    appId: {
      doc: 'GitHub App id or client id, to authenticate as an App instead of a token.',
      format: 'app-id',
      default: '',
      env: 'GITHUB_APP_ID',
    },
    privateKey: {
      doc: 'GitHub App private key (PEM). Literal "\\n" sequences are turned into newlines.',
      format: 'pem-key',
      default: '',
      env: 'GITHUB_APP_PRIVATE_KEY',
      sensitive: true,
    },
    installationId: {
      doc: 'GitHub App installation id.',
      format: 'numeric-id',
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
      format: 'timer-ms-or-zero',
      default: 1000,
      env: 'GITHUB_WRITE_MIN_TIME_MS',
    },
    notificationMinTimeMs: {
      doc: 'Least time between two GitHub requests that notify people (PR creation, review requests), in ms.',
      format: 'timer-ms-or-zero',
      default: 3000,
      env: 'GITHUB_NOTIFICATION_MIN_TIME_MS',
    },
    requestTimeout: {
      doc: 'Timeout of one GitHub request, in ms.',
      format: 'timer-ms',
      default: 30_000,
      env: 'GITHUB_TIMEOUT_MS',
    },
  },
  codegen: {
    apiUrl: {
      doc: 'Codegen API base URL.',
      format: 'http-url',
      default: 'https://api.codegen.com',
      env: 'CODEGEN_API_URL',
    },
    apiKey: {
      doc: 'Codegen API token (from codegen.com/token).',
      format: 'secret',
      default: '',
      env: 'CODEGEN_API_KEY',
      sensitive: true,
    },
    orgId: {
      doc: 'Codegen organization id.',
      format: 'numeric-id',
      default: '',
      env: 'CODEGEN_ORG_ID',
    },
    requestTimeout: {
      doc: 'Timeout of one Codegen request, in ms.',
      format: 'timer-ms',
      default: 30_000,
      env: 'CODEGEN_TIMEOUT_MS',
    },
    pollInitialMs: {
      doc: "Wait between two reads of the watched agent runs' states (one run watcher per process reads them for every waiting task from the run list), in ms, while runs change; it grows by pollBackoff while none changes, up to pollMaxMs.",
      format: 'timer-ms',
      default: 5_000,
      env: 'CODEGEN_POLL_INITIAL_MS',
    },
    pollMaxMs: {
      doc: "Longest wait between two reads of the watched agent runs' states, in ms.",
      format: 'timer-ms',
      default: 60_000,
      env: 'CODEGEN_POLL_MAX_MS',
    },
    pollBackoff: {
      doc: 'Growth factor of the wait between reads of the watched runs while none changes.',
      format: 'growth-factor',
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
      format: 'short-text',
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
      format: 'timer-ms',
      default: 30_000,
      env: 'POLL_INTERVAL_MS',
    },
    batchSize: {
      doc: 'Most tasks claimed in one poll.',
      format: 'claim-size',
      default: 10,
      env: 'BATCH_SIZE',
    },
    concurrency: {
      doc: 'Most tasks in flight at once in this process (the pool size).',
      format: 'claim-size',
      default: 5,
      env: 'CONCURRENCY',
    },
    maxRetries: {
      doc: 'Retries after the first attempt of a task (a task gets maxRetries + 1 attempts).',
      format: 'retries',
      default: 3,
      env: 'MAX_RETRIES',
    },
    timeout: {
      doc: 'Longest any step of an attempt may take other than waiting on the agent run (prompt, creating the run, the PR, the report), in ms; a step past it fails as a timeout.',
      format: 'timer-ms',
      default: 300_000,
      env: 'TASK_TIMEOUT_MS',
    },
    taskDeadlineMs: {
      doc: 'Wall-clock deadline of a task, in ms from its first claim: waiting on its agent run never spends an attempt, so this bounds it. A task past it fails; a PR its run opens later is still recorded on it ("late PR").',
      format: 'timer-ms',
      default: 6 * 3_600_000,
      env: 'TASK_DEADLINE_MS',
    },
    maxLeaseExpiries: {
      doc: 'A task whose worker was lost this many times (crashed, killed, cut off: its lease expired) is failed instead of claimed again; such re-claims spend no attempt.',
      format: 'count',
      default: 10,
      env: 'TASK_MAX_LEASE_EXPIRIES',
    },
    repoMaxInFlight: {
      doc: "Most tasks of one repository in flight at once across every replica (claimed or waiting on their agent run); a claim skips a repository at its cap and takes other repositories' tasks, so one busy repository cannot starve the rest. Tasks without a repository count as GITHUB_REPOSITORY's. 0: no cap.",
      format: 'repo-cap',
      default: 0,
      env: 'REPO_MAX_IN_FLIGHT',
    },
    repoMaxInFlightOverrides: {
      doc: 'Per-repository caps that replace REPO_MAX_IN_FLIGHT: {"owner/repo": 2, "owner/other": 5}; 0 lifts the cap for that repository.',
      format: 'repo-caps',
      default: {},
      env: 'REPO_MAX_IN_FLIGHT_OVERRIDES',
    },
    repositoryParkMs: {
      doc: "How long a repository's tasks wait after a repository-scoped failure (GitHub refuses access to it, Codegen has no such repository), in ms.",
      format: 'timer-ms',
      default: 15 * 60_000,
      env: 'REPOSITORY_PARK_MS',
    },
    outageRetryMs: {
      doc: 'How soon a task handed back during an outage is claimable again, in ms (intake stays paused until a probe succeeds anyway).',
      format: 'timer-ms',
      default: 15_000,
      env: 'OUTAGE_RETRY_MS',
    },
    shutdownGraceMs: {
      doc: 'On SIGTERM/SIGINT, how long in-flight tasks may finish before they are aborted and released, in ms.',
      format: 'timer-ms-or-zero',
      default: 30_000,
      env: 'SHUTDOWN_GRACE_MS',
    },
    shutdownSignalWindowMs: {
      doc: 'Repeated SIGTERM/SIGINT within this many ms of the first count as one (orchestrators often send two); a later one exits at once.',
      format: 'timer-ms-or-zero',
      default: 5_000,
      env: 'SHUTDOWN_SIGNAL_WINDOW_MS',
    },
    dryRun: {
      doc: 'Generate and log prompts but call neither Codegen nor GitHub. Forced on when credentials are missing outside production.',
      format: 'strict-boolean',
      default: false,
      env: 'DRY_RUN',
    },
  },
  health: {
    probeIntervalMs: {
      doc: 'During an outage of Codegen, GitHub or the task store (or while one refuses our credential), the first wait between probes, in ms; it doubles up to maxProbeIntervalMs.',
      format: 'timer-ms',
      default: 2_000,
      env: 'DEPENDENCY_PROBE_INTERVAL_MS',
    },
    maxProbeIntervalMs: {
      doc: 'Longest wait between two probes of a system that is down, in ms.',
      format: 'timer-ms',
      default: 30_000,
      env: 'DEPENDENCY_PROBE_MAX_INTERVAL_MS',
    },
    probeTimeoutMs: {
      doc: 'Longest a probe may take before the system counts as down, in ms.',
      format: 'timer-ms',
      default: 10_000,
      env: 'DEPENDENCY_PROBE_TIMEOUT_MS',
    },
  },
  reconcile: {
    intervalMs: {
      doc: "How often the reconciler reads the organization's recent API agent runs to adopt runs no task recorded and record late PRs, in ms; 0 turns it off.",
      format: 'timer-ms-or-zero',
      default: 5 * 60_000,
      env: 'RECONCILE_INTERVAL_MS',
    },
    maxPages: {
      doc: 'Pages of 100 runs the reconciler reads per pass (newest first).',
      format: 'count',
      default: 5,
      env: 'RECONCILE_MAX_PAGES',
    },
  },
  retention: {
    days: {
      doc: 'Finished tasks (completed, failed, cancelled) and their history are deleted this many days after they finished; 0 keeps them for ever. RETENTION_MS overrides it.',
      format: 'retention-days',
      default: 30,
      env: 'RETENTION_DAYS',
    },
    ms: {
      doc: 'The retention age in ms, when above 0 (overrides RETENTION_DAYS; for tests and short-lived deployments).',
      format: 'retention-ms',
      default: 0,
      env: 'RETENTION_MS',
    },
    intervalMs: {
      doc: 'How often a replica tries to run retention, in ms; one replica at a time does the work (a lease in the store).',
      format: 'timer-ms',
      default: 10 * 60_000,
      env: 'RETENTION_INTERVAL_MS',
    },
    batchSize: {
      doc: 'Finished tasks deleted per transaction by retention (small batches keep locks and WAL bursts short).',
      format: 'batch-size',
      default: 500,
      env: 'RETENTION_BATCH_SIZE',
    },
    maxBatches: {
      doc: 'Batches per retention run at most; what is left waits for the next run.',
      format: 'count',
      default: 200,
      env: 'RETENTION_MAX_BATCHES',
    },
  },
  replicas: {
    reportIntervalMs: {
      doc: 'How often a replica writes its report (intake, breakers, budgets, tasks in flight) to the store for the status page, in ms; it also picks up pause and resume requests made there.',
      format: 'timer-ms',
      default: 15_000,
      env: 'REPLICA_REPORT_INTERVAL_MS',
    },
  },
  auth: {
    validateOnStartup: {
      doc: 'Check the Codegen token with GET /v1/users/me at startup.',
      format: 'strict-boolean',
      default: true,
      env: 'AUTH_VALIDATE_ON_STARTUP',
    },
    probeIntervalMs: {
      doc: 'After an authentication error intake pauses; the token is re-checked this often, in ms.',
      format: 'timer-ms',
      default: 60_000,
      env: 'AUTH_PROBE_INTERVAL_MS',
    },
  },
  promptGenerator: {
    templates: groupWithDefaultChild({
      feature: {
        doc: 'Template for feature tasks.',
        format: 'template-name',
        default: 'feature_template',
        env: 'PROMPT_TEMPLATE_FEATURE',
      },
      bugfix: {
        doc: 'Template for bug fixes.',
        format: 'template-name',
        default: 'bugfix_template',
        env: 'PROMPT_TEMPLATE_BUGFIX',
      },
      refactor: {
        doc: 'Template for refactors.',
        format: 'template-name',
        default: 'refactor_template',
        env: 'PROMPT_TEMPLATE_REFACTOR',
      },
      documentation: {
        doc: 'Template for documentation tasks.',
        format: 'template-name',
        default: 'docs_template',
        env: 'PROMPT_TEMPLATE_DOCUMENTATION',
      },
      test: {
        doc: 'Template for test tasks.',
        format: 'template-name',
        default: 'test_template',
        env: 'PROMPT_TEMPLATE_TEST',
      },
      default: {
        doc: 'Template for anything else.',
        format: 'template-name',
        default: 'default_template',
        env: 'PROMPT_TEMPLATE_DEFAULT',
      },
    }),
    templatesDir: {
      doc: 'Directory of user templates (<name>.md) that replace or add to the built-in ones.',
      format: 'optional-path',
      default: '',
      env: 'PROMPT_TEMPLATES_DIR',
    },
    codeStyle: {
      language: {
        doc: 'Language the agent should write.',
        format: 'short-text',
        default: 'typescript',
        env: 'PROMPT_LANGUAGE',
      },
      framework: { doc: 'Framework in use.', format: 'short-text', default: 'node', env: 'PROMPT_FRAMEWORK' },
      testFramework: { doc: 'Test framework.', format: 'short-text', default: 'jest', env: 'PROMPT_TEST_FRAMEWORK' },
      linting: { doc: 'Linter.', format: 'short-text', default: 'eslint', env: 'PROMPT_LINTER' },
      formatting: { doc: 'Formatter.', format: 'short-text', default: 'prettier', env: 'PROMPT_FORMATTER' },
    },
    context: {
      includeFileStructure: {
        doc: "Include the task's file list.",
        format: 'strict-boolean',
        default: true,
        env: 'PROMPT_INCLUDE_FILE_STRUCTURE',
      },
      includeRelatedFiles: {
        doc: 'Include related files named in the task.',
        format: 'strict-boolean',
        default: true,
        env: 'PROMPT_INCLUDE_RELATED_FILES',
      },
      includeDependencies: {
        doc: 'Include dependencies named in the task.',
        format: 'strict-boolean',
        default: true,
        env: 'PROMPT_INCLUDE_DEPENDENCIES',
      },
      maxContextLength: {
        doc: 'Most characters of task context put into a prompt.',
        format: 'count',
        default: 8000,
        env: 'PROMPT_MAX_CONTEXT_LENGTH',
      },
    },
    quality: {
      requireTests: { doc: 'Ask for tests.', format: 'strict-boolean', default: true, env: 'PROMPT_REQUIRE_TESTS' },
      requireDocumentation: {
        doc: 'Ask for documentation.',
        format: 'strict-boolean',
        default: true,
        env: 'PROMPT_REQUIRE_DOCUMENTATION',
      },
      requireTypeChecking: {
        doc: 'Ask for type checking to pass.',
        format: 'strict-boolean',
        default: false,
        env: 'PROMPT_REQUIRE_TYPE_CHECKING',
      },
      requireErrorHandling: {
        doc: 'Ask for error handling.',
        format: 'strict-boolean',
        default: true,
        env: 'PROMPT_REQUIRE_ERROR_HANDLING',
      },
    },
  },
  prManager: {
    branches: {
      prefix: {
        doc: 'Branch name prefix the agent is asked to use; the task id follows it.',
        format: 'branch-prefix',
        default: 'codegen/task-',
        env: 'PR_BRANCH_PREFIX',
      },
      baseBranch: { doc: 'Base branch of PRs.', format: 'branch-name', default: 'main', env: 'PR_BASE_BRANCH' },
      autoDelete: {
        doc: 'Ask for the branch to be deleted on merge.',
        format: 'strict-boolean',
        default: false,
        env: 'PR_BRANCH_AUTO_DELETE',
      },
    },
    pr: {
      autoAssign: {
        doc: 'Assign the PR to the assignees below.',
        format: 'strict-boolean',
        default: true,
        env: 'PR_AUTO_ASSIGN',
      },
      assignees: { doc: 'Assignees of every PR.', format: 'login-list', default: [], env: 'PR_ASSIGNEES' },
      defaultReviewers: {
        doc: 'Reviewers requested on every PR (the PR author is always left out).',
        format: 'login-list',
        default: [],
        env: 'PR_REVIEWERS',
      },
      teamReviewers: {
        doc: 'Team slugs requested as reviewers.',
        format: 'team-list',
        default: [],
        env: 'PR_TEAM_REVIEWERS',
      },
      labels: {
        doc: 'Labels on every PR.',
        format: 'label-list',
        default: ['codegen', 'automated'],
        env: 'PR_LABELS',
      },
      draft: { doc: 'Open PRs as drafts.', format: 'strict-boolean', default: false, env: 'PR_DRAFT' },
      onNoChanges: {
        doc: 'A run that ends with no PR and no branch: fail the task, or complete it without a PR (with a note).',
        format: ['fail', 'complete'],
        default: 'fail',
        env: 'PR_ON_NO_CHANGES',
      },
      taskUrlTemplate: {
        doc: 'Link to a task put in the PR body; {id} is replaced. Empty uses <CLOUDFLARE_API_URL>/tasks/{id}.',
        format: 'task-url-template',
        default: '',
        env: 'PR_TASK_URL_TEMPLATE',
      },
    },
    commits: {
      messageTemplate: {
        doc: 'Commit message the agent is asked to use; {{TASK_TITLE}} and {{TASK_DESCRIPTION}} are replaced.',
        format: 'commit-template',
        default: 'feat: {{TASK_TITLE}}\n\n{{TASK_DESCRIPTION}}',
        env: 'PR_COMMIT_MESSAGE_TEMPLATE',
      },
      signOff: {
        doc: 'Ask for Signed-off-by lines.',
        format: 'strict-boolean',
        default: false,
        env: 'PR_COMMIT_SIGN_OFF',
      },
      gpgSign: { doc: 'Ask for signed commits.', format: 'strict-boolean', default: false, env: 'PR_COMMIT_GPG_SIGN' },
    },
  },
  feedbackHandler: {
    retry: {
      maxRetries: {
        doc: "The seed's FeedbackHandler retry count; processing.maxRetries (MAX_RETRIES) is the one the daemon uses.",
        format: 'retries',
        default: 3,
        env: 'FEEDBACK_MAX_RETRIES',
      },
      baseDelay: { doc: 'First retry delay, ms.', format: 'timer-ms', default: 1000, env: 'RETRY_BASE_DELAY_MS' },
      maxDelay: { doc: 'Longest retry delay, ms.', format: 'timer-ms', default: 30_000, env: 'RETRY_MAX_DELAY_MS' },
      backoffMultiplier: {
        doc: 'Growth of the retry delay.',
        format: 'growth-factor',
        default: 2,
        env: 'RETRY_BACKOFF_MULTIPLIER',
      },
      jitter: { doc: 'Spread retry delays by +-10%.', format: 'strict-boolean', default: true, env: 'RETRY_JITTER' },
    },
    feedback: {
      enableLearning: {
        doc: "Amend the next attempt's prompt from what failed.",
        format: 'strict-boolean',
        default: true,
        env: 'FEEDBACK_ENABLE_LEARNING',
      },
      patternAnalysis: {
        doc: 'Track failure patterns per category.',
        format: 'strict-boolean',
        default: true,
        env: 'FEEDBACK_PATTERN_ANALYSIS',
      },
      errorCategorization: {
        doc: "Classify errors into the seed's categories.",
        format: 'strict-boolean',
        default: true,
        env: 'FEEDBACK_ERROR_CATEGORIZATION',
      },
      successPatternTracking: {
        doc: 'Track what succeeded.',
        format: 'strict-boolean',
        default: true,
        env: 'FEEDBACK_SUCCESS_PATTERN_TRACKING',
      },
    },
    thresholds: {
      errorRateThreshold: {
        doc: 'Error rate (0..1, over the last 20 tasks) above which intake slows down.',
        format: 'ratio',
        default: 0.3,
        env: 'FEEDBACK_ERROR_RATE_THRESHOLD',
      },
      retryDelayIncrease: {
        doc: 'Factor applied to the poll interval while above the threshold.',
        format: 'growth-factor',
        default: 1.5,
        env: 'FEEDBACK_RETRY_DELAY_INCREASE',
      },
      maxConsecutiveFailures: {
        doc: 'Consecutive failures after which intake pauses for one maxDelay.',
        format: 'count',
        default: 5,
        env: 'FEEDBACK_MAX_CONSECUTIVE_FAILURES',
      },
    },
  },
  rateLimits: {
    codegenCreatePerMinute: {
      doc: 'Agent runs created per minute (Codegen allows 10).',
      format: 'count',
      default: 10,
      env: 'CODEGEN_CREATE_PER_MINUTE',
    },
    codegenRequestsPer30s: {
      doc: 'Other Codegen requests per 30 s (Codegen allows 60).',
      format: 'count',
      default: 60,
      env: 'CODEGEN_REQUESTS_PER_30S',
    },
    headroom: {
      doc: 'Percent of each documented rate limit left unused as a margin (0-90): 10 turns 10 per minute into 9, spaced 6.67 s.',
      format: 'headroom-percent',
      default: 10,
      env: 'RATE_LIMIT_HEADROOM',
    },
    replicas: {
      doc: 'Replicas sharing the rate limits. Without Redis (or while it is unreachable) each uses 1/replicas of every limit.',
      format: 'count',
      default: 1,
      env: 'REPLICAS',
    },
    redisUrl: {
      doc: 'Redis URL; when set, rate-limit budgets are shared by every replica.',
      format: 'redis-url',
      default: '',
      env: 'REDIS_URL',
      sensitive: true,
    },
    maxRetryAfterMs: {
      doc: 'Longest server-advised wait (Retry-After) honoured inline; longer ones reschedule the task.',
      format: 'timer-ms',
      default: 60_000,
      env: 'MAX_RETRY_AFTER_MS',
    },
  },
  breaker: {
    errorThresholdPercentage: {
      doc: "Failure percentage that opens a dependency's circuit.",
      format: 'percent',
      default: 50,
      env: 'BREAKER_ERROR_PERCENT',
    },
    resetTimeoutMs: {
      doc: 'How long an open circuit waits before a trial request, ms.',
      format: 'timer-ms',
      default: 30_000,
      env: 'BREAKER_RESET_MS',
    },
    volumeThreshold: {
      doc: 'Requests in the window before the circuit may open.',
      format: 'count',
      default: 10,
      env: 'BREAKER_VOLUME_THRESHOLD',
    },
  },
  server: {
    port: {
      doc: "Port of the daemon's HTTP endpoint (/metrics, /healthz, /readyz, /status); 0 picks a free one.",
      format: 'tcp-port',
      default: 9464,
      env: 'PORT',
    },
    host: {
      doc: 'Address the HTTP endpoint binds. 127.0.0.1 by default: only this machine can read /status and /metrics. The container image sets 0.0.0.0 so that Prometheus and probes in other containers reach it; set STATUS_TOKEN there.',
      format: 'bind-address',
      default: '127.0.0.1',
      env: 'HOST',
    },
    authToken: {
      doc: 'When set, /status and /metrics require "Authorization: Bearer <token>" (/healthz and /readyz stay open for probes).',
      format: 'secret',
      default: '',
      env: 'STATUS_TOKEN',
      sensitive: true,
    },
  },
  taskApi: {
    port: {
      doc: 'Port of the Task API service (codegen-pr task-api).',
      format: 'tcp-port',
      default: 8787,
      env: 'TASK_API_PORT',
    },
    host: {
      doc: 'Address the Task API binds. 127.0.0.1 by default; the container image sets 0.0.0.0 (every route but /health needs the bearer token).',
      format: 'bind-address',
      default: '127.0.0.1',
      env: 'TASK_API_HOST',
    },
    apiKey: {
      doc: 'Bearer token the Task API service requires (falls back to CLOUDFLARE_API_KEY).',
      format: 'secret',
      default: '',
      env: 'TASK_API_KEY',
      sensitive: true,
    },
    statusReadOnlyKey: {
      doc: 'A second credential for the status page (/status on the Task API) that may look but not retry, cancel or pause: as bearer token or Basic password. Empty: none.',
      format: 'secret',
      default: '',
      env: 'STATUS_PAGE_READ_ONLY_KEY',
      sensitive: true,
    },
    statusReadOnly: {
      doc: 'Make the status page read-only for every credential (no retry, cancel, pause or resume from it).',
      format: 'strict-boolean',
      default: false,
      env: 'STATUS_PAGE_READ_ONLY',
    },
  },
  log: {
    level: {
      doc: 'Log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
    },
    format: {
      doc: 'Log format: auto (human-readable on a terminal, JSON lines otherwise), pretty or json. Secrets are masked in both.',
      format: ['auto', 'pretty', 'json'],
      default: 'auto',
      env: 'LOG_FORMAT',
    },
    heartbeatMs: {
      doc: 'How often the daemon logs a heartbeat line (queue depth, tasks in flight, why intake is paused), in ms; 0 turns it off.',
      format: 'timer-ms-or-zero',
      default: 60_000,
      env: 'LOG_HEARTBEAT_MS',
    },
  },
  worker: {
    name: {
      doc: 'Name of this replica in leases and task history; empty uses host:pid.',
      format: 'worker-name',
      default: '',
      env: 'WORKER_NAME',
    },
  },
} as const;

export type AppConfigSchema = typeof schema;
