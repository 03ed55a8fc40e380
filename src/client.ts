/**
 * CodegenClient: the seed's public API, and the composition root the daemon itself runs on. It builds the
 * configuration, logger, metrics, task store, Codegen and GitHub adapters (each behind its guard), the prompt
 * generator, feedback handler, pool and scheduler, and exposes initialize, processTask, processBatch,
 * retrieveTasks, getStatus, getMetrics, shutdown, plus start() for the polling loop.
 */
import { createHash, randomBytes } from 'node:crypto';
import { configuredSecrets, loadConfig, redactConfig, type AppConfig, type DeepPartial } from './config/load.js';
import { createRedactor, type Redactor } from './domain/redact.js';
import {
  decideDryRun,
  defaultWorkerName,
  missingCredentials,
  repositoryCapOf,
  stripStored,
  VERSION,
} from './client-support.js';
import { DaemonError, toDaemonError } from './domain/errors.js';
import type { ClaimedTask, NewTask, Task, TaskStatus, TaskPriority } from './domain/task.js';
import type { TaskOutcome } from './domain/outcome.js';
import { LeaseLostError } from './daemon/lease-keeper.js';
import { DaemonEvents, type DaemonEventMap, type DaemonEventName } from './daemon/events.js';
import { createIntakeGate, type IntakeGate } from './daemon/intake.js';
import { createPool, type Pool, type Slot } from './daemon/pool.js';
import { createDependencyHealth, type DependencyHealth } from './daemon/health.js';
import { createRunWatcher, type RunWatcher } from './daemon/run-watcher.js';
import { createRedisRunBoard, type RunBoard } from './daemon/run-watcher-board.js';
import { TASK_API_LIMITS } from './domain/task-limits.js';
import { createRepositoryParks, type RepositoryParks } from './daemon/parking.js';
import { createReconciler, type Reconciler } from './daemon/reconciler.js';
import { withStoreRetries } from './adapters/task-store/retrying-store.js';
import { timeoutSignal } from './resilience/timeout-signal.js';
import { codegenBudgets, replicaShare } from './resilience/index.js';
import { createScheduler, type Scheduler } from './daemon/scheduler.js';
import { createDryRunLoop, type DryRunLoop } from './daemon/dry-run.js';
import { countRecoveries, trackStats, type ClientMetrics } from './daemon/stats.js';
import { startQueueGauges, type QueueGauges } from './daemon/gauges.js';
import { startOperatorDuties, type OperatorDuties } from './daemon/operator-duties.js';
import { openTaskStore, type StoreKind } from './adapters/open-store.js';
import type { OwnerRole, TasksAddedSignal } from './adapters/owner/index.js';
import { instrumentStore } from './adapters/instrument-store.js';
import { silentLogger, type Logger } from './observability/logger.js';
import { startHeartbeat, type Heartbeat } from './observability/heartbeat.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import type { AgentApi, CodeHost, TaskStore } from './pipeline/ports.js';
import type { PipelineDeps } from './pipeline/context.js';
import { pipelineDepsFrom } from './pipeline/deps.js';
import { runTask, ShutdownAbort } from './pipeline/run-task.js';
import { PromptGenerator, loadUserTemplates } from './prompt/index.js';
import { FeedbackHandler } from './feedback/index.js';
import { buildRemoteParts, type RemoteParts } from './remote-parts.js';
import { createPrManagerFacade, type PrManagerFacade } from './pr-manager-facade.js';
import type { ProcessResult } from './process-result.js';
import { toProcessResult } from './process-result.js';

export type { ProcessResult } from './process-result.js';

/** What the seed's constructor takes: any part of the configuration; the rest comes from defaults. */
export type CodegenClientConfig = DeepPartial<AppConfig>;

export interface CodegenClientOptions {
  /** pino logger; default: silent for library use. */
  logger?: Logger;
  /** Environment read for configuration. Default {}: a library user's explicit config is all that counts. */
  env?: NodeJS.ProcessEnv;
  /** Directory of config files, or false for none (default false for library use). */
  configDir?: string | false;
  /** Read .env (default false for library use). */
  dotenv?: boolean;
  /** Pre-built parts, for embedding and tests. */
  store?: TaskStore;
  agent?: AgentApi;
  codeHost?: CodeHost;
  metrics?: Metrics;
  /** Name of this replica in leases and history. */
  worker?: string;
  /**
   * Who this client is to an embedded store's data directory: `daemon` owns and shares it with other local
   * processes; `library` (the default) owns it without sharing, or goes through a daemon that owns it.
   */
  storeRole?: OwnerRole;
  /**
   * Masks credentials in what leaves the client: failure text written to the store, /status. The client adds
   * the configuration's own credentials to it. Default: a new one.
   */
  redactor?: Redactor;
}

/**
 * A library user's embedded store is in memory unless they name a directory: a CodegenClient must not create
 * ./data in the caller's directory behind their back. The daemon and the CLI pass `env` and keep ./data.
 */
function withLibraryStoreDefaults(config: CodegenClientConfig, options: CodegenClientOptions): CodegenClientConfig {
  if (options.env !== undefined || options.store) return config;
  const taskStore = config.taskStore ?? {};
  return {
    ...config,
    taskStore: {
      ...taskStore,
      dataDir: taskStore.dataDir ?? 'memory://',
      pgliteDir: taskStore.pgliteDir ?? 'memory://',
    },
  };
}

/**
 * Most pages of 100 runs one sweep of the run watcher reads (50,000 runs: far more than any pool runs at once);
 * it stops as soon as every watched run was seen, and reads runs past this window one by one.
 */
const RUN_WATCH_MAX_PAGES = 500;

export class CodegenClient {
  readonly config: AppConfig;
  readonly promptGenerator: PromptGenerator;
  readonly feedbackHandler: FeedbackHandler;
  readonly prManager: PrManagerFacade;
  readonly metricsRegistry: Metrics;
  readonly worker: string;
  readonly dryRun: boolean;
  private readonly logger: Logger;
  private readonly redactor: Redactor;
  private readonly events: DaemonEvents;
  private readonly intake: IntakeGate;
  private readonly pool: Pool;
  private readonly parks: RepositoryParks;
  private readonly stats: () => ClientMetrics;
  private health?: DependencyHealth;
  private runWatcher?: RunWatcher;
  private reconciler?: Reconciler;
  private storeKind: StoreKind | 'custom' = 'custom';
  private storeWhere = '';
  /** Fires when tasks are added through the store (by anyone, when this process owns an embedded store). */
  private tasksAdded?: TasksAddedSignal;
  private stopWakeups?: () => void;
  private store?: TaskStore;
  private remote?: RemoteParts;
  private scheduler?: Scheduler;
  private dryRunLoop?: DryRunLoop;
  private gauges?: QueueGauges;
  private heartbeat?: Heartbeat;
  private duties?: OperatorDuties;
  private initialized = false;
  private shuttingDown?: Promise<void>;
  /** The pipeline's dependencies, made once: every claimed task shares them. */
  private sharedPipeline?: PipelineDeps;

  constructor(
    config: CodegenClientConfig = {},
    private readonly options: CodegenClientOptions = {},
  ) {
    this.config = loadConfig({
      env: options.env ?? {},
      overrides: withLibraryStoreDefaults(config, options),
      configDir: options.configDir === false || options.configDir === undefined ? '/nonexistent' : options.configDir,
      dotenvPath: options.dotenv ? '.env' : false,
    });
    this.dryRun = decideDryRun(this.config, Boolean(options.agent && options.codeHost));
    this.logger = options.logger ?? silentLogger();
    this.redactor = options.redactor ?? createRedactor();
    this.redactor.add(...configuredSecrets(this.config));
    this.events = new DaemonEvents(this.logger);
    this.intake = createIntakeGate();
    this.pool = createPool(this.config.processing.concurrency);
    this.metricsRegistry = options.metrics ?? createMetrics({ version: VERSION });
    this.metricsRegistry.poolSize.set(this.config.processing.concurrency);
    this.worker = options.worker ?? (this.config.worker.name || defaultWorkerName());
    const { branches, commits } = this.config.prManager;
    this.promptGenerator = new PromptGenerator(
      this.config.promptGenerator,
      {
        branchPrefix: branches.prefix,
        commitMessageTemplate: commits.messageTemplate,
        signOff: commits.signOff,
        baseBranch: branches.baseBranch,
      },
      this.config.promptGenerator.templatesDir
        ? loadUserTemplates(this.config.promptGenerator.templatesDir)
        : undefined,
    );
    this.feedbackHandler = new FeedbackHandler(this.config.feedbackHandler, {
      maxRetries: this.config.processing.maxRetries,
      maxRetryAfterMs: this.config.rateLimits.maxRetryAfterMs,
      outageRetryMs: this.config.processing.outageRetryMs,
      repositoryParkMs: this.config.processing.repositoryParkMs,
    });
    this.parks = createRepositoryParks({ events: this.events, metrics: this.metricsRegistry });
    this.stats = trackStats(this.events, (m) => this.metricsRegistry.successRate.set(m.successRate / 100));
    countRecoveries(this.events, this.metricsRegistry.tasksRecovered);
    this.events.on('intake_paused', () => this.gauges?.refreshIntake());
    this.events.on('intake_resumed', () => this.gauges?.refreshIntake());
    this.prManager = createPrManagerFacade({
      store: () => this.requireStore(),
      codeHost: () => this.remote?.codeHost,
      runWithPrompt: (prompt, task) => this.processTask(task, { prompt }),
      logger: this.logger,
    });
  }

  /** The task store in use (after initialize): add, list and inspect tasks directly. */
  get taskStore(): TaskStore {
    return this.requireStore();
  }

  /** The Codegen auth component (status without secrets). */
  get auth(): { getStatus(): object } {
    return {
      getStatus: (): object =>
        this.remote?.auth?.getStatus() ?? {
          authenticated: false,
          dryRun: this.dryRun,
          reason: this.dryRun ? 'dry run: no Codegen credentials configured' : 'not initialized',
        },
    };
  }

  on<E extends DaemonEventName>(event: E, listener: (payload: DaemonEventMap[E]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  once<E extends DaemonEventName>(event: E, listener: (payload: DaemonEventMap[E]) => void): this {
    this.events.once(event, listener);
    return this;
  }

  off<E extends DaemonEventName>(event: E, listener: (payload: DaemonEventMap[E]) => void): this {
    this.events.off(event, listener);
    return this;
  }

  /** Opens the task store, builds the Codegen and GitHub adapters and validates the Codegen token. */
  async initialize(): Promise<void> {
    if (this.initialized) return;
    let store: TaskStore;
    if (this.options.store) store = this.options.store;
    else {
      const opened = await openTaskStore(this.config, {
        logger: this.logger,
        role: this.options.storeRole ?? 'library',
      });
      store = opened.store;
      this.storeKind = opened.kind;
      this.storeWhere = opened.where;
      this.tasksAdded = opened.signal;
    }
    // Fenced writes are safe to repeat: a transient store failure is retried rather than failing the task.
    // Requests are counted per attempt, inside the retries.
    this.store = withStoreRetries(instrumentStore(store, this.metricsRegistry), { logger: this.logger });
    if (!this.dryRun) {
      const remote = await buildRemoteParts(this.config, {
        logger: this.logger,
        metrics: this.metricsRegistry,
        events: this.events,
        ...(this.options.agent ? { agent: this.options.agent } : {}),
        ...(this.options.codeHost ? { codeHost: this.options.codeHost } : {}),
      });
      this.remote = remote;
      this.health = createDependencyHealth({
        probes: {
          // The Codegen probe goes through the token tracker, so the seed's auth status follows it.
          codegen: async (signal) =>
            void (remote.auth ? await remote.auth.validate(signal) : await remote.agent.whoAmI(signal)),
          github: (signal) => remote.codeHost.probe(signal),
          'task-store': (signal) => store.ping(signal),
        },
        intake: this.intake,
        events: this.events,
        logger: this.logger,
        metrics: this.metricsRegistry,
        ...this.config.health,
      });
      if (remote.startupAuthError) await this.health.assess(remote.startupAuthError);
      this.runWatcher = createRunWatcher({
        agent: remote.agent,
        health: this.health,
        logger: this.logger,
        interval: {
          initialMs: this.config.codegen.pollInitialMs,
          maxMs: this.config.codegen.pollMaxMs,
          backoff: this.config.codegen.pollBackoff,
        },
        maxPages: RUN_WATCH_MAX_PAGES,
        // The read budget this replica's guard grants: few pages are read often, many as fast as it allows.
        budget: { readsPer30s: this.watcherReadsPer30s() },
        // Replicas sharing Redis, or else a PostgreSQL store, share one watcher's reads: N replicas do not spend
        // N times the read budget. PGlite and SQLite belong to one process: nothing to share.
        ...(await this.runBoard()),
      });
    } else {
      this.logger.warn(
        { missing: missingCredentials(this.config) },
        'DRY RUN: Codegen or GitHub credentials are missing; prompts are generated and logged, no agent run or PR is made',
      );
    }
    this.initialized = true;
    this.gauges = startQueueGauges({
      store: this.requireStore(),
      intake: this.intake,
      metrics: this.metricsRegistry,
      intervalMs: Math.max(5_000, this.config.processing.pollInterval),
      logger: this.logger,
    });
    // Retention and the replica's reports, when this process holds the database (operator-duties.ts).
    this.duties = startOperatorDuties({
      store: this.requireStore(),
      config: this.config,
      worker: this.worker,
      intake: this.intake,
      events: this.events,
      metrics: this.metricsRegistry,
      logger: this.logger,
      state: () => this.getStatus(),
      version: VERSION,
    });
    this.events.emit('initialized', { worker: this.worker, dryRun: this.dryRun, store: this.storeKind });
    this.logger.info(
      { worker: this.worker, store: this.storeKind, where: this.storeWhere, dryRun: this.dryRun },
      'codegen-pr initialized',
    );
  }

  /** Starts the polling loop: claim tasks into the pool as slots free up. */
  start(): void {
    this.assertInitialized();
    this.heartbeat ??= startHeartbeat({
      intervalMs: this.config.log.heartbeatMs,
      logger: this.logger,
      read: async () => {
        // A fresh count (the gauges' own refresh runs at most every poll interval); a failed count keeps the last.
        await this.gauges?.refresh();
        return {
          queue: this.gauges?.depth() ?? {},
          inFlight: this.pool.active(),
          paused: this.intake.reasons().map((r) => r.reason),
          dryRun: this.dryRun,
        };
      },
    });
    if (this.dryRun) {
      this.dryRunLoop ??= createDryRunLoop({
        store: this.requireStore(),
        prompts: this.promptGenerator,
        defaultRepository: this.config.github.repository,
        batchSize: this.config.processing.batchSize,
        pollIntervalMs: this.config.processing.pollInterval,
        events: this.events,
        logger: this.logger,
      });
      this.dryRunLoop.start();
      this.stopWakeups ??= this.tasksAdded?.onTasksAdded(() => this.dryRunLoop?.wake());
      return;
    }
    this.scheduler ??= createScheduler({
      store: this.requireStore(),
      pool: this.pool,
      intake: this.intake,
      worker: this.worker,
      batchSize: this.config.processing.batchSize,
      pollIntervalMs: this.config.processing.pollInterval,
      leaseMs: this.config.taskStore.leaseMs,
      pollFactor: () => this.applyIntakeAdvice(),
      maxLeaseExpiries: this.config.processing.maxLeaseExpiries,
      ...repositoryCapOf(this.config),
      // Through the Task API a claim long-polls (the server answers once a task arrives), up to a poll interval.
      ...(this.storeKind === 'http' ? { claimWaitMs: this.claimWaitMs() } : {}),
      startTask: (claim, slot) => {
        this.startClaim(claim, slot).catch((err: unknown) =>
          this.logger.error({ err, taskId: claim.task.id }, 'task crashed'),
        );
      },
      logger: this.logger,
      metrics: this.metricsRegistry,
      source: this.storeKind,
    });
    this.scheduler.start();
    // A task added through this process (or through the embedded store's owner endpoint) is claimed at once
    // when a slot is free, instead of at the next poll.
    this.stopWakeups ??= this.tasksAdded?.onTasksAdded(() => this.scheduler?.wake());
    if (this.remote && this.config.reconcile.intervalMs > 0) {
      this.reconciler ??= createReconciler({
        agent: this.remote.agent,
        store: this.requireStore(),
        logger: this.logger,
        events: this.events,
        metrics: this.metricsRegistry,
        intervalMs: this.config.reconcile.intervalMs,
        maxPages: this.config.reconcile.maxPages,
      });
      this.reconciler.start();
    }
  }

  /**
   * Runs a claimed task in the pool. The job id carries the lease token: if this replica's own lease on the task
   * expired (a stalled event loop, a slow store) and it claimed the task again, the older job is stale; it is
   * aborted as having lost its lease and the new claim goes on from the checkpoint.
   */
  private startClaim(
    claim: ClaimedTask,
    slot: Slot,
    deps = (this.sharedPipeline ??= this.pipeline()),
  ): Promise<TaskOutcome> {
    for (const id of this.pool.activeIds()) {
      if (id.startsWith(`${claim.task.id}#`))
        this.pool.abort(id, new LeaseLostError(`task ${claim.task.id} was claimed again`));
    }
    return new Promise((resolve, reject) => {
      slot.start({
        id: `${claim.task.id}#${claim.lease.token}`,
        run: (signal) => runTask(claim, deps, signal).then(resolve, reject),
      });
    });
  }

  /**
   * Process one task now and return its result. The task is added to the store when new; a task already
   * completed returns its recorded PR without doing anything again.
   */
  async processTask(input: NewTask | Task, options: { prompt?: string } = {}): Promise<ProcessResult> {
    this.assertInitialized();
    const store = this.requireStore();
    const id = input.id ?? `task-${randomBytes(6).toString('hex')}`;
    let task = await store.getTask(id);
    if (!task) [task] = await store.addTasks([{ ...stripStored(input), id }], 'client');
    if (!task)
      throw new DaemonError(`task ${id} could not be stored`, { code: 'task-not-stored', category: 'unknown' });
    if (task.status === 'completed' || task.status === 'cancelled') return toProcessResult(task);
    if (this.dryRun) {
      const repository = task.repository || this.config.github.repository || undefined;
      const prompt =
        options.prompt ??
        this.promptGenerator.render(task, { attempt: task.attempts + 1, ...(repository ? { repository } : {}) })
          .content;
      return { ...toProcessResult(task), success: false, dryRun: true, prompt };
    }
    // A slot first, then the claim: a claimed task always has somewhere to run.
    const slot = await this.pool.acquire();
    let claim: ClaimedTask | undefined;
    const claimedAt = Date.now();
    try {
      [claim] = await store.claimTasks({
        worker: this.worker,
        limit: 1,
        leaseMs: this.config.taskStore.leaseMs,
        taskIds: [id],
        maxLeaseExpiries: this.config.processing.maxLeaseExpiries,
      });
    } catch (err) {
      slot.release();
      throw err;
    }
    if (!claim) {
      slot.release();
      const current = await store.getTask(id);
      return {
        ...toProcessResult(current ?? task),
        success: false,
        error: {
          code: 'task-not-claimable',
          category: 'conflict',
          message: `task ${id} is ${current?.status ?? 'gone'} and cannot be claimed now`,
        },
      };
    }
    const outcome = await this.startClaim({ ...claim, claimedAt }, slot, this.pipeline(options.prompt));
    const after = (await store.getTask(id)) ?? task;
    return toProcessResult(after, outcome);
  }

  /** Process several tasks, at most processing.concurrency at once. */
  async processBatch(tasks: Array<NewTask | Task>): Promise<ProcessResult[]> {
    return Promise.all(
      tasks.map((task) =>
        this.processTask(task).catch((raw: unknown) => {
          const err = toDaemonError(raw);
          return {
            taskId: task.id ?? '',
            success: false,
            status: 'failed' as const,
            error: { code: err.code, category: err.category, message: err.message },
          };
        }),
      ),
    );
  }

  /** Tasks from the store, filtered as the seed shows: { status, limit, priority, repository }. */
  async retrieveTasks(
    filters: { status?: TaskStatus; limit?: number; priority?: TaskPriority; repository?: string } = {},
  ): Promise<Task[]> {
    this.assertInitialized();
    const page = await this.requireStore().listTasks({ limit: 10, ...filters });
    return page.tasks;
  }

  /**
   * What /status shows: the daemon's state, with every credential masked and no personal data (the token
   * owner's name and email, and the logins of reviewers and assignees, are left out).
   */
  getStatus(): Record<string, unknown> {
    const { user, ...auth } = this.auth.getStatus() as { user?: { id?: number } } & Record<string, unknown>;
    return this.redactor.deep({
      initialized: this.initialized,
      processing: this.pool.active() > 0,
      polling: this.scheduler?.running ?? false,
      dryRun: this.dryRun,
      worker: this.worker,
      activeTasks: this.pool.active(),
      activeTaskIds: this.pool.activeIds().map((id) => id.split('#')[0]),
      concurrency: this.pool.size,
      intake: { open: this.intake.isOpen(), paused: this.intake.reasons() },
      outages: this.health?.outages() ?? [],
      parkedRepositories: this.parks.list().map((p) => ({ ...p, until: new Date(p.until).toISOString() })),
      store: { kind: this.storeKind, where: this.storeWhere, depth: this.gauges?.depth() ?? {} },
      circuits: this.remote?.circuits() ?? {},
      rateBudgets: this.remote?.budgets() ?? {},
      runWatcher: this.runWatcher ? { watching: this.runWatcher.watching(), ...this.runWatcher.stats() } : undefined,
      lastPollAt: this.scheduler?.lastPollAt(),
      metrics: this.getMetrics(),
      auth: { ...auth, ...(user?.id !== undefined ? { userId: user.id } : {}) },
      feedback: this.feedbackHandler.getMetrics(),
      config: withoutPeople(redactConfig(this.config)),
    });
  }

  getMetrics(): ClientMetrics {
    return this.stats();
  }

  /** Reasons the daemon is not ready to take work (empty when ready). */
  async readiness(): Promise<string[]> {
    const reasons: string[] = [];
    if (!this.initialized) reasons.push('not initialized');
    if (this.shuttingDown) reasons.push('shutting down');
    if (this.store) {
      try {
        const limit = timeoutSignal(2_000);
        await this.store.ping(limit.signal).finally(() => limit.clear());
      } catch {
        reasons.push('task store unreachable');
      }
    }
    return reasons;
  }

  /**
   * Stop claiming, let in-flight tasks finish for up to graceMs, then abort and release them (their checkpoints
   * stay, so the next claim resumes them) and close everything.
   */
  shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.shuttingDown ??= this.doShutdown(options.graceMs ?? this.config.processing.shutdownGraceMs);
    return this.shuttingDown;
  }

  private async doShutdown(graceMs: number): Promise<void> {
    this.intake.pause('shutdown');
    this.stopWakeups?.();
    this.reconciler?.stop();
    await this.scheduler?.stop();
    await this.dryRunLoop?.stop();
    const idle = await this.pool.waitIdle(graceMs);
    if (!idle) {
      this.logger.warn({ inFlight: this.pool.activeIds() }, 'grace period over; aborting and releasing tasks');
      this.pool.abortAll(new ShutdownAbort('shutdown'));
      await this.pool.waitIdle(15_000);
    }
    this.events.emit('shutdown', { graceful: idle });
    this.heartbeat?.stop();
    this.gauges?.stop();
    this.duties?.stop();
    this.reconciler?.stop();
    await this.runWatcher?.stop();
    this.health?.stop();
    await this.remote?.close();
    if (!this.options.store) await this.store?.close();
    this.logger.info({ graceful: idle }, 'codegen-pr stopped');
  }

  private pipeline(promptOverride?: string): PipelineDeps {
    const remote = this.remote;
    if (!remote) throw new DaemonError('not initialized', { code: 'not-initialized', category: 'configuration' });
    return pipelineDepsFrom(this.config, {
      store: this.requireStore(),
      agent: remote.agent,
      runs: this.requireRunWatcher(),
      codeHost: remote.codeHost,
      prompts: this.promptGenerator,
      feedback: this.feedbackHandler,
      events: this.events,
      intake: this.intake,
      logger: this.logger,
      metrics: this.metricsRegistry,
      health: this.requireHealth(),
      parks: this.parks,
      redact: this.redactor,
      ...(promptOverride !== undefined ? { promptOverride } : {}),
    });
  }

  /** Applies the feedback handler's advice to intake; returns the poll interval factor. */
  private applyIntakeAdvice(): number {
    const advice = this.feedbackHandler.intakeAdvice();
    if (advice.pauseUntil) {
      const until = Date.parse(advice.pauseUntil);
      if (until > Date.now() && this.intake.pause('error_rate', until)) {
        this.events.emit('intake_paused', { reason: 'error_rate', until: advice.pauseUntil });
        this.logger.warn(
          { until: advice.pauseUntil, reason: advice.reason },
          'too many failures in a row; pausing intake',
        );
      }
    }
    return advice.pollFactor;
  }

  /**
   * The run board the replicas of this organization (and this Codegen URL) share: through Redis when REDIS_URL
   * is set, else through the PostgreSQL store's database; none for a single-process store.
   */
  private async runBoard(): Promise<{ board?: RunBoard }> {
    const { codegen, taskStore } = this.config;
    const where = createHash('sha256').update(codegen.apiUrl).digest('hex').slice(0, 12);
    const shared = {
      namespace: `${codegen.orgId}:${where}`,
      me: `${this.worker}:${randomBytes(4).toString('hex')}`,
      // The leader renews the lease every third of this, between sweeps too: a dead leader is replaced within it.
      ttlMs: 30_000,
    };
    if (this.config.rateLimits.redisUrl) {
      return {
        board: createRedisRunBoard({ ...shared, url: this.config.rateLimits.redisUrl, commandTimeoutMs: 2_000 }),
      };
    }
    if (this.storeKind !== 'postgres' || !taskStore.databaseUrl) return {};
    // Loaded only here, as the store loads its driver: a deployment without PostgreSQL never loads pg.
    const [{ createPostgresClient }, { createPgRunBoard }] = await Promise.all([
      import('./adapters/task-store/postgres.js'),
      import('./daemon/run-watcher-pg-board.js'),
    ]);
    // Its own two connections with short bounds: a board that is slow to answer costs a sweep 2 s at most, and
    // then this replica reads Codegen for itself, as without a board.
    const sql = createPostgresClient({
      connectionString: taskStore.databaseUrl,
      poolSize: 2,
      applicationName: 'codegen-pr run-watch',
      connectTimeoutMs: 2_000,
      statementTimeoutMs: 2_000,
      queryTimeoutMs: 2_500,
      closeTimeoutMs: 2_000,
      onIdleError: (err) => this.logger.debug({ err }, 'run board connection lost'),
    });
    return { board: createPgRunBoard({ ...shared, sql, schema: taskStore.schema }) };
  }

  /**
   * Codegen reads per 30 s the run watcher may spend: the guard's standard budget (headroom taken off), this
   * replica's share of it when the replicas cannot share it through Redis (RATE_LIMIT_REPLICAS).
   */
  private watcherReadsPer30s(): number {
    const { rateLimits } = this.config;
    const share = replicaShare(codegenBudgets(this.config).standard, rateLimits.redisUrl ? 1 : rateLimits.replicas);
    return Number.isFinite(share.max) ? (share.max * 30_000) / share.perMs : Number.MAX_SAFE_INTEGER;
  }

  /** A Task API long poll: within a poll interval, half the request timeout, and what the API accepts. */
  private claimWaitMs(): number {
    const { pollInterval } = this.config.processing;
    return Math.min(pollInterval, Math.floor(this.config.cloudflareApi.timeout / 2), TASK_API_LIMITS.claimWaitMs.max);
  }

  private requireRunWatcher(): RunWatcher {
    if (!this.runWatcher)
      throw new DaemonError('not initialized', { code: 'not-initialized', category: 'configuration' });
    return this.runWatcher;
  }

  private requireHealth(): DependencyHealth {
    if (!this.health) throw new DaemonError('not initialized', { code: 'not-initialized', category: 'configuration' });
    return this.health;
  }

  private requireStore(): TaskStore {
    if (!this.store)
      throw new DaemonError('call initialize() first', { code: 'not-initialized', category: 'configuration' });
    return this.store;
  }

  private assertInitialized(): void {
    if (!this.initialized)
      throw new DaemonError('call initialize() first', { code: 'not-initialized', category: 'configuration' });
  }
}

export { VERSION, missingCredentials } from './client-support.js';

/** The printable configuration without people's logins (reviewers, assignees): /status needs only their count. */
function withoutPeople(config: Record<string, unknown>): Record<string, unknown> {
  const pr = ((config.prManager as Record<string, unknown> | undefined)?.pr ?? {}) as Record<string, unknown>;
  for (const key of ['defaultReviewers', 'assignees', 'teamReviewers']) {
    if (Array.isArray(pr[key])) pr[key] = `${(pr[key] as unknown[]).length} configured`;
  }
  const repos = (config.github as Record<string, unknown> | undefined)?.repositories;
  if (repos && typeof repos === 'object') {
    for (const override of Object.values(repos as Record<string, Record<string, unknown>>)) {
      for (const key of ['reviewers', 'assignees', 'teamReviewers']) {
        if (Array.isArray(override[key])) override[key] = `${(override[key] as unknown[]).length} configured`;
      }
    }
  }
  return config;
}
