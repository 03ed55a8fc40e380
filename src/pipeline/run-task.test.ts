import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/load.js';
import { DaemonError } from '../domain/errors.js';
import { DaemonEvents } from '../daemon/events.js';
import { createIntakeGate } from '../daemon/intake.js';
import { silentLogger } from '../observability/logger.js';
import { FeedbackHandler } from '../feedback/index.js';
import { PromptGenerator } from '../prompt/index.js';
import { createRepositoryParks } from '../daemon/parking.js';
import { createRunWatcher } from '../daemon/run-watcher.js';
import {
  agentRun,
  claimOf,
  FakeHealth,
  makeTask,
  RecordingCodeHost,
  RecordingStore,
  ScriptedAgent,
} from '../../test/fakes/memory-ports.js';
import type { PipelineDeps } from './context.js';
import { policyForRepository } from './policy.js';
import type { TaskStore } from './ports.js';
import { runTask, ShutdownAbort } from './run-task.js';

const config = loadConfig({ env: {}, dotenvPath: false, configDir: '/nonexistent' });

/**
 * The process's run watcher over the scripted agent. The listing it reads is empty (every run is past the listed
 * window), so it reads the run with getAgentRun, which plays the script.
 */
function watcherOf(agent: ScriptedAgent, health: FakeHealth, everyMs = 1) {
  const interval = { initialMs: everyMs, maxMs: everyMs * 2, backoff: 2 };
  const reader = {
    listAgentRuns: async () => ({ items: [], total: 0 }),
    getAgentRun: (id: number) => agent.getAgentRun(id),
  };
  return createRunWatcher({ agent: reader, health, logger: silentLogger(), interval, maxPages: 1 });
}

function depsFor(store: RecordingStore, agent: ScriptedAgent, codeHost = new RecordingCodeHost()) {
  const events = new DaemonEvents();
  const intake = createIntakeGate();
  const health = new FakeHealth();
  const deps: PipelineDeps = {
    store: store as unknown as TaskStore,
    agent,
    runs: watcherOf(agent, health),
    codeHost,
    prompts: new PromptGenerator(config.promptGenerator, {
      branchPrefix: 'codegen/task-',
      commitMessageTemplate: config.prManager.commits.messageTemplate,
      signOff: false,
      baseBranch: 'main',
    }),
    feedback: new FeedbackHandler(config.feedbackHandler, {
      maxRetries: 3,
      maxRetryAfterMs: 60_000,
      random: () => 0.5,
    }),
    events,
    intake,
    logger: silentLogger(),
    defaultRepository: '',
    policyFor: (repo) => policyForRepository(config, repo),
    branchFor: (id) => `codegen/task-${id}`,
    taskUrlFor: (id) => `https://tasks.example/tasks/${id}`,
    wait: { paused: 'resume', probeTimeoutMs: 1_000 },
    leaseMs: 60_000,
    taskDeadlineMs: 3_600_000,
    stepTimeoutMs: 60_000,
    health,
    parks: createRepositoryParks({ events }),
  };
  return { deps, events, intake, codeHost, health };
}

const done = agentRun({
  status: 'COMPLETE',
  state: 'succeeded',
  pullRequests: [{ id: 1, url: 'https://github.com/acme/widgets/pull/5', branch: 'b' }],
});

describe('runTask', () => {
  it('creates the run, records it before waiting, ensures the PR and completes with it in one write', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), agentRun({ status: 'RUNNING' }), done]);
    const { deps, events, codeHost } = depsFor(store, agent);
    const seen: string[] = [];
    events.on('pr_created', () => seen.push('pr_created'));
    events.on('task_completed', () => seen.push('task_completed'));

    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);

    expect(outcome.kind).toBe('completed');
    expect(store.methods()).toEqual(['recordRunIntent', 'recordAgentRun', 'completeTask']);
    expect(store.calls.at(-1)?.args[0]).toMatchObject({ pr: { url: 'https://github.com/acme/widgets/pull/5' } });
    // The run id was checkpointed before the first poll.
    const agentCalls = agent.methods();
    expect(agentCalls.slice(0, 2)).toEqual(['resolveRepoId', 'createAgentRun']);
    expect(agentCalls.filter((m) => m === 'createAgentRun')).toHaveLength(1);
    const created = agent.calls.find((c) => c.method === 'createAgentRun')?.args[0] as {
      metadata: { task_id: string };
      repoId: number;
      prompt: string;
    };
    expect(created.metadata.task_id).toBe('t1');
    expect(created.repoId).toBe(7);
    expect(created.prompt).toContain('codegen/task-t1');
    expect(codeHost.inputs[0]?.policy.labels).toEqual(['codegen', 'automated']);
    expect(codeHost.inputs[0]?.expectedBranch).toBe('codegen/task-t1');
    expect(seen).toEqual(['pr_created', 'task_completed']);
  });

  it('resumes the run checkpointed on a re-claimed task instead of creating another', async () => {
    const task = makeTask({ attempts: 2, checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun({ status: 'RUNNING' }), done]);
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('completed');
    expect(agent.methods()).not.toContain('createAgentRun');
    expect(store.methods()).toEqual(['completeTask']);
  });

  it('records its intent before creating a run, and the nonce travels in the run metadata', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), done]);
    const { deps } = depsFor(store, agent);
    await runTask(claimOf(task), deps, new AbortController().signal);
    expect(store.methods().slice(0, 2)).toEqual(['recordRunIntent', 'recordAgentRun']);
    const nonce = store.calls.find((c) => c.method === 'recordRunIntent')?.args[0];
    const created = agent.calls.find((c) => c.method === 'createAgentRun')?.args[0] as { metadata: { intent: string } };
    expect(typeof nonce).toBe('string');
    expect(created.metadata.intent).toBe(nonce);
    // The intent was recorded before the create call went out.
    expect(agent.methods()).not.toContain('findAgentRunByIntent');
  });

  it('adopts the run of an earlier intent, on the first attempt after a release too', async () => {
    // attempts 1: a shutdown released the task during its create call, refunding the attempt.
    const task = makeTask({
      attempts: 1,
      checkpoint: { runIntent: { nonce: 'nonce-0001', at: '2026-01-01T00:00:00Z' } },
    });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    agent.lost = agentRun({ id: 55, status: 'RUNNING' });
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('completed');
    expect(agent.methods()).not.toContain('createAgentRun');
    expect(agent.calls.find((c) => c.method === 'findAgentRunByIntent')?.args[1]).toEqual(task.checkpoint.runIntent);
    expect(store.calls.find((c) => c.method === 'recordAgentRun')?.args[0]).toEqual({
      id: 55,
      url: 'https://codegen.com/run/101',
    });
  });

  it('creates a run under a new intent when the earlier intent never became a run', async () => {
    const task = makeTask({
      attempts: 2,
      checkpoint: { runIntent: { nonce: 'nonce-0001', at: '2026-01-01T00:00:00Z' } },
    });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), done]);
    const { deps } = depsFor(store, agent);
    await runTask(claimOf(task), deps, new AbortController().signal);
    expect(agent.methods().filter((m) => m === 'createAgentRun')).toHaveLength(1);
    const nonce = store.calls.find((c) => c.method === 'recordRunIntent')?.args[0];
    expect(nonce).not.toBe('nonce-0001');
  });

  it('reports a recorded run that failed as the agent failure, dropping it instead of re-reading it', async () => {
    // A worker saw run 101 fail and crashed before saying so; the re-claim must not start over silently.
    const task = makeTask({ attempts: 1, checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun({ status: 'ERROR', state: 'failed' })]);
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('retry-scheduled');
    expect(agent.methods()).not.toContain('createAgentRun');
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as {
      dropRun?: boolean;
      error: { category: string };
    };
    expect(report).toMatchObject({ dropRun: true, error: { category: 'agent' } });
    expect(store.task.checkpoint.agentRunId).toBeUndefined();
  });

  it('schedules a retry when the agent run fails', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), agentRun({ status: 'ERROR', state: 'failed' })]);
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('retry-scheduled');
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as {
      error: { code: string; category: string };
      retryAt?: string;
    };
    expect(report.error).toMatchObject({ code: 'agent-run-error', category: 'agent' });
    expect(report.retryAt).toBeDefined();
  });

  it('fails an invalid task without calling Codegen', async () => {
    const task = makeTask({ repository: undefined, title: '' });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('failed');
    expect(agent.calls).toHaveLength(0);
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as {
      error: { category: string; message: string };
      retryAt?: string;
    };
    expect(report.error.category).toBe('validation');
    expect(report.error.message).toMatch(/title/);
    expect(report.error.message).toMatch(/repository/);
    expect(report.retryAt).toBeUndefined();
    // A final failure leaves suggestions on the task for whoever fixes it.
    const feedback = store.calls.find((c) => c.method === 'addFeedback')?.args[0] as {
      kind: string;
      suggestions: Record<string, string[]>;
    };
    expect(feedback.kind).toBe('suggestions');
    expect(Object.values(feedback.suggestions).flat().length).toBeGreaterThan(0);
  });

  it('completes without a PR when the run made no changes and the policy allows it', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), agentRun({ status: 'COMPLETE', state: 'succeeded' })]);
    const codeHost = new RecordingCodeHost();
    codeHost.outcome = { kind: 'no-changes', note: 'no branch was pushed' };
    const { deps } = depsFor(store, agent, codeHost);
    deps.policyFor = (repo) => ({ ...policyForRepository(config, repo), onNoChanges: 'complete' });
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome).toMatchObject({ kind: 'completed', note: 'no branch was pushed' });
  });

  it('releases the task, not fails it, when shutdown aborts it', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun({ status: 'RUNNING' })]);
    const { deps, health } = depsFor(store, agent);
    deps.runs = watcherOf(agent, health, 60_000);
    const controller = new AbortController();
    const running = runTask(claimOf(task), deps, controller.signal);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new ShutdownAbort('shutdown'));
    const outcome = await running;
    expect(outcome.kind).toBe('released');
    expect(store.methods()).toEqual(['recordRunIntent', 'recordAgentRun', 'releaseTask']);
  });

  it('stops without writing when another worker holds the lease', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    store.token = 'someone-elses-token';
    const agent = new ScriptedAgent([done]);
    const { deps, events } = depsFor(store, agent);
    const lost = events.waitFor('lease_lost');
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('lease-lost');
    await lost;
    // The refused write was the first one; nothing was written after it.
    expect(store.methods()).toEqual(['recordRunIntent']);
  });

  it('hands a task back without spending an attempt when a probe confirms Codegen is down', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    agent.createError = new DaemonError('Codegen 503', {
      code: 'codegen-server-error',
      category: 'server',
      retryable: true,
      dependency: 'codegen',
    });
    const { deps, health } = depsFor(store, agent);
    health.healthy = false;
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('retry-scheduled');
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as { countAttempt?: boolean };
    expect(report.countAttempt).toBe(false);
    expect(health.assessed.map((e) => e.code)).toEqual(['codegen-server-error']);
  });

  it("spends an attempt when the failing system answers its probe (the failure is the task's own)", async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    agent.createError = new DaemonError('Codegen 500', {
      code: 'codegen-server-error',
      category: 'server',
      retryable: true,
      dependency: 'codegen',
    });
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('retry-scheduled');
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as { countAttempt?: boolean };
    expect(report.countAttempt).toBe(true);
  });

  it('keeps waiting on a healthy run while Codegen is down, spending no attempt', async () => {
    const task = makeTask({ checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun({ status: 'RUNNING' }), done]);
    const { deps, health } = depsFor(store, agent);
    health.healthy = false;
    const outage = new DaemonError('Codegen unreachable', {
      code: 'codegen-network-error',
      category: 'network',
      retryable: true,
      dependency: 'codegen',
    });
    // The run is found on resume; then Codegen is unreachable for three polls, then answers again.
    let calls = 0;
    const get = agent.getAgentRun.bind(agent);
    agent.getAgentRun = async (id: number) => {
      calls += 1;
      agent.getError = calls >= 2 && calls <= 4 ? outage : undefined;
      return get(id);
    };
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('completed');
    expect(store.methods()).not.toContain('failTask');
    expect(health.assessed.length).toBeGreaterThanOrEqual(2);
  });

  it('parks the repository on a GitHub 403 that is not a rate limit, and defers its next task untouched', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), done]);
    const codeHost = new RecordingCodeHost();
    const forbidden = new DaemonError('GitHub pulls.create: forbidden: Resource not accessible by integration', {
      code: 'github-forbidden',
      category: 'configuration',
      status: 403,
      dependency: 'github',
      scope: 'repository',
    });
    codeHost.ensurePullRequest = async () => {
      throw forbidden;
    };
    const { deps, intake } = depsFor(store, agent, codeHost);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('retry-scheduled');
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as {
      countAttempt?: boolean;
      retryAt: string;
    };
    expect(report.countAttempt).toBe(false);
    expect(Date.parse(report.retryAt) - Date.now()).toBeGreaterThan(10 * 60_000);
    expect(intake.isOpen()).toBe(true);
    expect(deps.parks.parked('acme/widgets')?.code).toBe('github-forbidden');

    // The next task of that repository waits with it, without a call to Codegen or GitHub.
    const next = makeTask({ id: 't2' });
    const nextStore = new RecordingStore(next);
    const nextAgent = new ScriptedAgent([done]);
    const outcome2 = await runTask(
      claimOf(next),
      { ...deps, store: nextStore as unknown as TaskStore, agent: nextAgent },
      new AbortController().signal,
    );
    expect(outcome2).toMatchObject({ kind: 'released', reason: 'repository-parked' });
    expect(nextAgent.calls).toHaveLength(0);
    expect(nextStore.calls.find((c) => c.method === 'failTask')?.args[0]).toMatchObject({ countAttempt: false });
  });

  it('fails a task past its deadline without touching Codegen, naming the variable to raise', async () => {
    const task = makeTask({
      startedAt: new Date(Date.now() - 7_200_000).toISOString(),
      checkpoint: { agentRunId: 101 },
    });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    const { deps } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('failed');
    expect(agent.calls).toHaveLength(0);
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as {
      error: { code: string; message: string };
    };
    expect(report.error.code).toBe('task-deadline-exceeded');
    expect(report.error.message).toMatch(/TASK_DEADLINE_MS/);
  });

  it('starts a new run with the failure in its prompt after a run ended without changes', async () => {
    const task = makeTask({ checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    const codeHost = new RecordingCodeHost();
    codeHost.outcome = { kind: 'no-changes', note: 'no branch was pushed' };
    const { deps, health } = depsFor(store, agent, codeHost);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('retry-scheduled');
    expect(store.calls.find((c) => c.method === 'failTask')?.args[0]).toMatchObject({
      dropRun: true,
      error: { code: 'agent-no-changes' },
    });
    // The next attempt has no run to re-read: it creates one.
    const again = new RecordingStore({ ...store.task, status: 'claimed', attempts: 2 });
    const agent2 = new ScriptedAgent([agentRun({ id: 102 }), done]);
    await runTask(
      claimOf(again.task),
      { ...deps, store: again as unknown as TaskStore, agent: agent2, runs: watcherOf(agent2, health) },
      new AbortController().signal,
    );
    expect(agent2.methods()).toContain('createAgentRun');
    const prompt = (agent2.calls.find((c) => c.method === 'createAgentRun')?.args[0] as { prompt: string }).prompt;
    expect(prompt).toMatch(/agent-no-changes|without a pull request/);
  });

  it('stops before its next call to Codegen or GitHub when heartbeats stop getting through', async () => {
    const task = makeTask({ checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    // The store stops answering heartbeats: they hang.
    store.heartbeat = () => new Promise<never>(() => {});
    const agent = new ScriptedAgent([agentRun({ status: 'RUNNING' })]);
    const codeHost = new RecordingCodeHost();
    const { deps, events, health } = depsFor(store, agent, codeHost);
    deps.leaseMs = 300;
    deps.runs = watcherOf(agent, health, 5);
    let pollsAtLoss = -1;
    events.on('lease_lost', () => (pollsAtLoss = agent.methods().length));
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('lease-lost');
    // Nothing was asked of Codegen after the lease was given up, nothing of GitHub at all, nothing written.
    expect(agent.methods().length).toBe(pollsAtLoss);
    expect(codeHost.inputs).toHaveLength(0);
    expect(store.methods()).toEqual([]);
  });

  it('does not poll Codegen while an outage of it is declared: only the health probe asks', async () => {
    const task = makeTask({ checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun({ status: 'RUNNING' }), done]);
    const { deps, health } = depsFor(store, agent);
    let pollsWhileDown = 0;
    const get = agent.getAgentRun.bind(agent);
    agent.getAgentRun = async (id: number) => {
      if (health.down) pollsWhileDown += 1;
      const run = await get(id);
      // The first look (resuming the recorded run) is answered; then the monitor declares an outage.
      if (agent.methods().filter((m) => m === 'getAgentRun').length === 1) {
        health.down = true;
        setTimeout(() => (health.down = false), 30);
      }
      return run;
    };
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('completed');
    expect(pollsWhileDown).toBe(0);
  });

  it('stores a failure whose upstream message carries NUL and runs long, in a form every store accepts', async () => {
    const task = makeTask({ checkpoint: { agentRunId: 101 } });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    const codeHost = new RecordingCodeHost();
    codeHost.ensurePullRequest = async () => {
      throw new DaemonError(`GitHub said: bad\u0000byte ${'x'.repeat(10_000)}`, {
        code: 'github-validation-failed',
        category: 'validation',
        dependency: 'github',
      });
    };
    const { deps } = depsFor(store, agent, codeHost);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('failed');
    const report = store.calls.find((c) => c.method === 'failTask')?.args[0] as { error: { message: string } };
    expect(report.error.message).not.toContain('\u0000');
    expect(report.error.message.length).toBeLessThanOrEqual(4_000);
    expect(report.error.message).toMatch(/^GitHub said: bad\ufffdbyte x+/);
  });
});
