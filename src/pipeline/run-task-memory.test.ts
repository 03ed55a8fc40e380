/**
 * What an attempt keeps while it waits on its agent run. A daemon holds thousands of attempts in that wait at
 * once, so anything an attempt keeps there is multiplied by them: the prompt (up to 120,000 characters) must be
 * gone once the run is created. Reachability is checked with a WeakRef and a forced full GC (V8's gc(), exposed
 * for this test), which frees every object no longer reachable: no timing involved.
 */
import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../config/load.js';
import { DaemonEvents } from '../daemon/events.js';
import { createIntakeGate } from '../daemon/intake.js';
import { createRepositoryParks } from '../daemon/parking.js';
import { createRunWatcher, type RunWatch } from '../daemon/run-watcher.js';
import { FeedbackHandler } from '../feedback/index.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { PromptGenerator } from '../prompt/index.js';
import {
  agentRun,
  claimOf,
  FakeHealth,
  makeTask,
  RecordingCodeHost,
  RecordingStore,
  ScriptedAgent,
} from '../../test/fakes/memory-ports.js';
import type { PipelineDeps, PromptRenderer } from './context.js';
import { policyForRepository } from './policy.js';
import type { AgentRun, TaskStore } from './ports.js';
import { runTask } from './run-task.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const config = loadConfig({ env: {}, dotenvPath: false, configDir: '/nonexistent' });

/** A run watcher whose wait ends when the test says so, and which says when an attempt starts waiting. */
function heldWatch() {
  let release: (run: AgentRun) => void = () => undefined;
  let waiting: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (waiting = resolve));
  const watch: RunWatch = {
    waitForChange: () =>
      new Promise<AgentRun>((resolve) => {
        release = resolve;
        waiting();
      }),
  };
  return { watch, started, release: (run: AgentRun) => release(run) };
}

function depsFor(
  store: RecordingStore,
  agent: ScriptedAgent,
  parts: Partial<Pick<PipelineDeps, 'runs' | 'prompts' | 'logger'>>,
): PipelineDeps {
  const events = new DaemonEvents();
  const health = new FakeHealth();
  const interval = { initialMs: 1, maxMs: 2, backoff: 2 };
  const reader = {
    listAgentRuns: async () => ({ items: [], total: 0 }),
    getAgentRun: (id: number) => agent.getAgentRun(id),
  };
  return {
    store: store as unknown as TaskStore,
    agent,
    runs: parts.runs ?? createRunWatcher({ agent: reader, health, logger: silentLogger(), interval, maxPages: 1 }),
    codeHost: new RecordingCodeHost(),
    prompts:
      parts.prompts ??
      new PromptGenerator(config.promptGenerator, {
        branchPrefix: 'codegen/task-',
        commitMessageTemplate: config.prManager.commits.messageTemplate,
        signOff: false,
        baseBranch: 'main',
      }),
    feedback: new FeedbackHandler(config.feedbackHandler, { maxRetries: 3, maxRetryAfterMs: 60_000 }),
    events,
    intake: createIntakeGate(),
    logger: parts.logger ?? silentLogger(),
    defaultRepository: '',
    policyFor: (repo) => policyForRepository(config, repo),
    branchFor: (id) => `codegen/task-${id}`,
    taskUrlFor: () => undefined,
    wait: { paused: 'resume', probeTimeoutMs: 1_000 },
    leaseMs: 60_000,
    taskDeadlineMs: 3_600_000,
    stepTimeoutMs: 60_000,
    health,
    parks: createRepositoryParks({ events }),
  };
}

/** A logger that records its lines (with their bindings) and the loggers made from it. */
function recordingLogger(
  lines: Array<Record<string, unknown>>,
  children: Array<Record<string, unknown>>,
  bindings: Record<string, unknown> = {},
): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, ...bindings, ...(typeof obj === 'object' ? obj : { msg: obj }), ...(msg ? { msg } : {}) });
    };
  const logger = {
    level: 'debug',
    isLevelEnabled: () => true,
    child: (more: Record<string, unknown>) => {
      children.push(more);
      return recordingLogger(lines, children, { ...bindings, ...more });
    },
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
  };
  return logger as unknown as Logger;
}

describe('an attempt waiting on its agent run', () => {
  it('no longer holds its prompt', async () => {
    const task = makeTask();
    const store = new RecordingStore(task);
    const agent = new ScriptedAgent([agentRun()]);
    const held = heldWatch();
    let prompt: WeakRef<object> | undefined;
    const prompts: PromptRenderer = {
      render: () => {
        const rendered = {
          content: 'Make the change. '.repeat(1_000),
          metadata: { template: 't', length: 0, branch: 'b' },
        };
        prompt = new WeakRef(rendered);
        return rendered;
      },
    };
    const deps = depsFor(store, agent, { runs: held.watch, prompts });
    const outcome = runTask(claimOf(task), deps, new AbortController().signal);
    await held.started;
    // The agent fake keeps the create call's input (the prompt's text), not the rendered prompt object.
    agent.calls.length = 0;
    // A WeakRef's target is kept until the end of the job that made or read it: look in a later turn.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(prompt).toBeDefined();
    expect({ promptHeld: prompt?.deref() !== undefined }).toEqual({ promptHeld: false });
    held.release(agentRun({ status: 'COMPLETE', state: 'succeeded' }));
    expect((await outcome).kind).toBe('completed');
  });

  it('logs its steps through the task logger, with no logger of its own per step', async () => {
    // A child of the task's child logger costs V8 a prototype map per task: thousands of them in flight.
    const task = makeTask();
    const agent = new ScriptedAgent([agentRun(), agentRun({ status: 'COMPLETE', state: 'succeeded' })]);
    const lines: Array<Record<string, unknown>> = [];
    const children: Array<Record<string, unknown>> = [];
    const deps = depsFor(new RecordingStore(task), agent, { logger: recordingLogger(lines, children) });
    expect((await runTask(claimOf(task), deps, new AbortController().signal)).kind).toBe('completed');
    expect(children).toEqual([{ taskId: 't1', attempt: 1 }]);
    const ends = lines.filter((l) => l.msg === 'step done').map((l) => [l.taskId, l.step]);
    expect(ends).toEqual(
      ['validate', 'generate-prompt', 'ensure-agent-run', 'await-agent-run', 'ensure-pull-request', 'report'].map(
        (step) => ['t1', step],
      ),
    );
  });
});
