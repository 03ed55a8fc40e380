import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/load.js';
import { DaemonError } from '../domain/errors.js';
import { DaemonEvents } from '../daemon/events.js';
import { createIntakeGate } from '../daemon/intake.js';
import { silentLogger } from '../observability/logger.js';
import { FeedbackHandler } from '../feedback/index.js';
import { PromptGenerator } from '../prompt/index.js';
import {
  agentRun,
  claimOf,
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

function depsFor(store: RecordingStore, agent: ScriptedAgent, codeHost = new RecordingCodeHost()) {
  const events = new DaemonEvents();
  const intake = createIntakeGate();
  const authErrors: DaemonError[] = [];
  const deps: PipelineDeps = {
    store: store as unknown as TaskStore,
    agent,
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
    wait: { initialMs: 1, maxMs: 2, backoff: 2, timeoutMs: 2_000, paused: 'resume' },
    leaseMs: 60_000,
    onAuthError: (err) => authErrors.push(err),
  };
  return { deps, events, intake, codeHost, authErrors };
}

const done = agentRun({
  status: 'COMPLETE',
  state: 'succeeded',
  pullRequests: [{ id: 1, url: 'https://github.com/acme/widgets/pull/5', branch: 'b' }],
});

describe('runTask', () => {
  it('creates the run, records it before waiting, ensures the PR, records it and completes', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun(), agentRun({ status: 'RUNNING' }), done]);
    const { deps, events, codeHost } = depsFor(store, agent);
    const seen: string[] = [];
    events.on('pr_created', () => seen.push('pr_created'));
    events.on('task_completed', () => seen.push('task_completed'));

    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);

    expect(outcome.kind).toBe('completed');
    expect(store.methods()).toEqual(['recordAgentRun', 'recordPullRequest', 'completeTask']);
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
    expect(store.methods()).toEqual(['recordPullRequest', 'completeTask']);
  });

  it('adopts a run an earlier attempt created but never recorded', async () => {
    const task = makeTask({ attempts: 2 });
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    agent.lost = agentRun({ id: 55, status: 'RUNNING' });
    const { deps } = depsFor(store, agent);
    await runTask(claimOf(task), deps, new AbortController().signal);
    expect(agent.methods()).not.toContain('createAgentRun');
    expect(store.calls.find((c) => c.method === 'recordAgentRun')?.args[0]).toEqual({
      id: 55,
      url: 'https://codegen.com/run/101',
    });
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
    const { deps } = depsFor(store, agent);
    deps.wait = { ...deps.wait, initialMs: 60_000, maxMs: 60_000 };
    const controller = new AbortController();
    const running = runTask(claimOf(task), deps, controller.signal);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new ShutdownAbort('shutdown'));
    const outcome = await running;
    expect(outcome.kind).toBe('released');
    expect(store.methods()).toEqual(['recordAgentRun', 'releaseTask']);
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
    expect(store.methods()).toEqual(['recordAgentRun']);
  });

  it('reports a refused Codegen token and releases the task so intake can pause', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([done]);
    agent.createError = new DaemonError('token refused', {
      code: 'codegen-unauthorized',
      category: 'authentication',
      status: 401,
    });
    const { deps, authErrors } = depsFor(store, agent);
    const outcome = await runTask(claimOf(task), deps, new AbortController().signal);
    expect(outcome.kind).toBe('released');
    expect(authErrors.map((e) => e.code)).toEqual(['codegen-unauthorized']);
  });
});
