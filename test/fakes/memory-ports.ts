/**
 * Small in-memory fakes of the pipeline's ports for pipeline tests. They record every call in order and fail
 * loudly on a call the test did not expect. The real stores and HTTP adapters have their own tests.
 */
import { DaemonError, staleLeaseError } from '../../src/domain/errors.js';
import type { ClaimedTask, PullRequestRef, RunIntent, Task } from '../../src/domain/task.js';
import type {
  AgentRun,
  AgentApi,
  CodeHost,
  CompletionReport,
  EnsurePullRequestInput,
  FailureReport,
  PullRequestOutcome,
} from '../../src/pipeline/ports.js';

export type Call = { port: string; method: string; args: unknown[] };

export function makeTask(overrides: Partial<Task> = {}): Task {
  const now = new Date('2026-01-01T00:00:00Z').toISOString();
  return {
    id: 't1',
    title: 'Add a health endpoint',
    description: 'Expose GET /health returning 200.',
    type: 'feature',
    priority: 'medium',
    labels: [],
    repository: 'acme/widgets',
    status: 'claimed',
    attempts: 1,
    maxAttempts: 4,
    checkpoint: {},
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function claimOf(task: Task, token = 'token-1'): ClaimedTask {
  return { task, lease: { owner: 'worker-a', token, expiresAt: new Date(Date.now() + 60_000).toISOString() } };
}

/** A recording task store holding one task and one valid token; any other token is stale. */
export class RecordingStore {
  readonly calls: Call[] = [];
  task: Task;
  token: string;
  heartbeatError?: DaemonError;

  constructor(task: Task, token = 'token-1') {
    this.task = task;
    this.token = token;
  }

  private check(method: string, taskId: string, token: string, args: unknown[]): void {
    this.calls.push({ port: 'store', method, args });
    if (taskId !== this.task.id) throw new Error(`unexpected task ${taskId}`);
    if (token !== this.token) throw staleLeaseError(taskId);
  }

  async heartbeat(taskId: string, token: string) {
    this.check('heartbeat', taskId, token, []);
    if (this.heartbeatError) throw this.heartbeatError;
    return { owner: 'worker-a', token, expiresAt: new Date(Date.now() + 60_000).toISOString() };
  }
  async recordRunIntent(taskId: string, token: string, nonce: string) {
    this.check('recordRunIntent', taskId, token, [nonce]);
    const intent = { nonce, at: new Date().toISOString() };
    this.task = { ...this.task, checkpoint: { ...this.task.checkpoint, runIntent: intent } };
    return intent;
  }
  async recordAgentRun(taskId: string, token: string, run: { id: number; url?: string }) {
    this.check('recordAgentRun', taskId, token, [run]);
    this.task = { ...this.task, status: 'awaiting_agent', checkpoint: { ...this.task.checkpoint, agentRunId: run.id } };
  }
  async recordPullRequest(taskId: string, token: string, pr: PullRequestRef) {
    this.check('recordPullRequest', taskId, token, [pr]);
    this.task = { ...this.task, checkpoint: { ...this.task.checkpoint, pr } };
  }
  async completeTask(taskId: string, token: string, report: CompletionReport) {
    this.check('completeTask', taskId, token, [report]);
    this.task = { ...this.task, status: 'completed' };
  }
  async failTask(taskId: string, token: string, report: FailureReport) {
    this.check('failTask', taskId, token, [report]);
    const refund = report.countAttempt === false;
    const retry = report.retryAt !== undefined && (refund || this.task.attempts < this.task.maxAttempts);
    const checkpoint = report.dropRun
      ? { ...(this.task.checkpoint.pr ? { pr: this.task.checkpoint.pr } : {}) }
      : this.task.checkpoint;
    this.task = {
      ...this.task,
      status: retry ? 'retry' : 'failed',
      lastError: report.error,
      attempts: refund ? Math.max(0, this.task.attempts - 1) : this.task.attempts,
      checkpoint,
    };
    return this.task;
  }
  async addFeedback(taskId: string, feedback: Record<string, unknown>) {
    this.calls.push({ port: 'store', method: 'addFeedback', args: [feedback] });
    if (taskId !== this.task.id) throw new Error(`unexpected task ${taskId}`);
    this.task = { ...this.task, feedback: [...(this.task.feedback ?? []), feedback] };
    return this.task;
  }
  async releaseTask(taskId: string, token: string) {
    this.check('releaseTask', taskId, token, []);
    this.task = { ...this.task, status: 'pending' };
  }
  methods(): string[] {
    return this.calls.filter((c) => c.method !== 'heartbeat').map((c) => c.method);
  }
}

export function agentRun(overrides: Partial<AgentRun> = {}): AgentRun {
  return {
    id: 101,
    status: 'ACTIVE',
    state: 'in_progress',
    pullRequests: [],
    webUrl: 'https://codegen.com/run/101',
    ...overrides,
  };
}

/** A Codegen fake: each getAgentRun returns the next run of `script` (the last one sticks). */
export class ScriptedAgent implements AgentApi {
  readonly calls: Call[] = [];
  script: AgentRun[];
  /** The run findAgentRunByIntent finds (for any intent of the task), if any. */
  lost?: AgentRun;
  createError?: DaemonError;
  /** Thrown by getAgentRun while set (an outage, say). */
  getError?: DaemonError;

  constructor(script: AgentRun[]) {
    this.script = script;
  }
  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ port: 'agent', method, args });
  }
  async createAgentRun(input: Parameters<AgentApi['createAgentRun']>[0]) {
    this.record('createAgentRun', input);
    if (this.createError) throw this.createError;
    return this.script[0] ?? agentRun();
  }
  async getAgentRun(runId: number) {
    this.record('getAgentRun', runId);
    if (this.getError) throw this.getError;
    const next = this.script.length > 1 ? this.script.shift() : this.script[0];
    if (!next) throw new Error('script is empty');
    return next;
  }
  async findAgentRunByIntent(taskId: string, intent: RunIntent) {
    this.record('findAgentRunByIntent', taskId, intent);
    return this.lost;
  }
  async listAgentRuns() {
    this.record('listAgentRuns');
    return { items: this.lost ? [this.lost] : [], total: this.lost ? 1 : 0 };
  }
  async resumeAgentRun(runId: number, prompt: string) {
    this.record('resumeAgentRun', runId, prompt);
    return this.getAgentRun(runId);
  }
  async resolveRepoId(fullName: string) {
    this.record('resolveRepoId', fullName);
    return fullName === 'acme/widgets' ? 7 : undefined;
  }
  async whoAmI() {
    this.record('whoAmI');
    return { userId: 1, username: 'bot' };
  }
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }
}

export class RecordingCodeHost implements CodeHost {
  readonly inputs: EnsurePullRequestInput[] = [];
  outcome: PullRequestOutcome = {
    kind: 'pull-request',
    created: false,
    pr: { url: 'https://github.com/acme/widgets/pull/5', number: 5, branch: 'codegen/task-t1', state: 'open' },
  };
  async ensurePullRequest(input: EnsurePullRequestInput) {
    this.inputs.push(input);
    return this.outcome;
  }
  async getPullRequestStatus(): Promise<never> {
    throw new Error('not expected in this test');
  }
  async probe(): Promise<void> {}
}

/** A health monitor that answers what the test says: by default every probe finds the system healthy. */
export class FakeHealth {
  readonly assessed: DaemonError[] = [];
  healthy = true;
  async assess(error: DaemonError): Promise<boolean> {
    this.assessed.push(error);
    if (error.scope !== 'dependency' && error.scope !== 'credential') return true;
    return this.healthy;
  }
  /** Whether an outage is declared (the monitor's state), separate from what a probe would answer now. */
  down = false;
  isDown(): boolean {
    return this.down;
  }
}
