import { describe, expect, it } from '@jest/globals';
import { makeTask } from '../../test/fixtures/prompt-fixtures.js';
import { agentRetryHints, reviewTask, suggestImprovements, type FailureRecord } from './suggestions.js';

/** A task that reviewTask finds nothing to say about, so each test sees only what its history adds. */
const wellFormed = makeTask({
  context: { acceptanceCriteria: ['POST /login returns a JWT'], files: ['src/routes/login.ts'] },
});

let at = 0;
function failure(category: string, code = `${category}-error`, extra: Partial<FailureRecord> = {}): FailureRecord {
  at += 1;
  return {
    at: `2024-01-15T10:00:0${at % 10}.000Z`,
    category,
    code,
    message: `${category} went wrong`,
    attempt: 1,
    ...extra,
  };
}

const empty = { promptOptimizations: [], contextImprovements: [], qualityEnhancements: [], processOptimizations: [] };

describe('reviewTask', () => {
  it('has nothing to say about a well-formed feature task', () => {
    expect(reviewTask(wellFormed)).toEqual(empty);
  });

  it('asks for detail, acceptance criteria and files when missing, plus type-specific quality', () => {
    const s = reviewTask(makeTask({ type: 'bugfix', description: 'broken', context: {} }));
    expect(s.promptOptimizations).toEqual([
      'Describe the change in more detail: the description has only 6 characters',
      'Add acceptance criteria (context.acceptanceCriteria) so "done" is unambiguous',
    ]);
    expect(s.contextImprovements).toHaveLength(1);
    expect(s.qualityEnhancements).toEqual(['Ask for a regression test that fails without the fix']);
  });
});

describe('suggestImprovements per category', () => {
  it('agent ended with no changes: make requirements specific and name files', () => {
    const s = suggestImprovements(wellFormed, [failure('agent', 'agent-no-changes')]);
    expect(s.promptOptimizations).toEqual(['Make the requirements more specific: the agent ended without changes']);
    expect(s.contextImprovements).toEqual(['Name the files to change in context.files']);
  });

  it('agent ran out of room: split the task, trim context', () => {
    const s = suggestImprovements(wellFormed, [failure('agent', 'agent-max-iterations')]);
    expect(s.processOptimizations).toEqual([expect.stringMatching(/^Split the task into smaller tasks/)]);
    expect(s.contextImprovements).toEqual(['Trim the context to the files that matter']);
  });

  it('other agent failures: concrete result and tests', () => {
    const s = suggestImprovements(wellFormed, [failure('agent', 'agent-run-failed')]);
    expect(s.promptOptimizations[0]).toMatch(/State the expected result concretely/);
    expect(s.qualityEnhancements[0]).toMatch(/Ask for tests/);
  });

  it('timeout: split the task or raise the timeout', () => {
    const s = suggestImprovements(wellFormed, [failure('timeout')]);
    expect(s.processOptimizations).toEqual([
      'Split the task into smaller tasks that finish within processing.timeout',
      'Raise processing.timeout (TASK_TIMEOUT_MS) if the work is inherently long',
    ]);
  });

  it('validation: fix the fields named in the (quoted) error', () => {
    const s = suggestImprovements(wellFormed, [
      failure('validation', 'task-invalid', { message: 'title must not be empty;\nrepository must be owner/repo' }),
    ]);
    expect(s.promptOptimizations).toEqual([
      'Fix the task fields named in the error, then retry the task: title must not be empty; repository must be owner/repo',
    ]);
  });

  it('prompt: reword the task', () => {
    expect(suggestImprovements(wellFormed, [failure('prompt')]).promptOptimizations).toHaveLength(2);
  });

  it('rate limits: one is noise, repeated ones ask for lower concurrency', () => {
    expect(suggestImprovements(wellFormed, [failure('rate_limit')])).toEqual(empty);
    const s = suggestImprovements(wellFormed, [failure('rate_limit'), failure('rate_limit'), failure('rate_limit')]);
    expect(s.processOptimizations).toEqual([
      'Lower processing.concurrency or rateLimits.codegenCreatePerMinute: the task was rate limited 3 times',
    ]);
  });

  it('quota, authentication, conflict, configuration, unknown: process advice', () => {
    const s = suggestImprovements(wellFormed, [
      failure('quota'),
      failure('authentication'),
      failure('conflict'),
      failure('configuration', 'config-bad', { message: 'codegen.orgId is empty' }),
      failure('unknown', 'unexpected-error'),
    ]);
    expect(s.processOptimizations).toEqual([
      'Codegen plan quota reached: raise the plan limit or spread tasks over time',
      'Check the Codegen and GitHub credentials and their permissions for acme/api',
      'The task or its pull request changed under the run; check the task history',
      'Fix the configuration named in the error: codegen.orgId is empty',
      'Unclassified failure (code unexpected-error): look at the logs for this task',
    ]);
  });

  it('network and server: advice only when repeated, naming the dependency', () => {
    expect(suggestImprovements(wellFormed, [failure('network')])).toEqual(empty);
    const s = suggestImprovements(wellFormed, [
      failure('server', 'codegen-5xx', { dependency: 'codegen' }),
      failure('network', 'net', { dependency: 'github' }),
    ]);
    expect(s.processOptimizations).toEqual(['codegen, github failed 2 times; check their status before retrying']);
  });

  it('cancelled: nothing to learn', () => {
    expect(suggestImprovements(wellFormed, [failure('cancelled')])).toEqual(empty);
  });

  it('notices the same task-shaped failure repeating, and never repeats a suggestion', () => {
    const history = [failure('agent', 'agent-no-changes'), failure('agent', 'agent-no-changes')];
    const s = suggestImprovements(wellFormed, history);
    expect(s.processOptimizations).toEqual([
      'The same failure (agent-no-changes) happened 2 times; retrying unchanged may not help',
    ]);
    expect(s.promptOptimizations).toHaveLength(1);
  });

  it('merges the task review in, after what the failures taught', () => {
    const s = suggestImprovements(makeTask({ context: {} }), [failure('agent', 'agent-no-changes')]);
    expect(s.promptOptimizations[0]).toMatch(/^Make the requirements more specific/);
    expect(s.promptOptimizations).toContain(
      'Add acceptance criteria (context.acceptanceCriteria) so "done" is unambiguous',
    );
  });
});

describe('agentRetryHints', () => {
  it('speaks to the agent about the last failure', () => {
    const hint = (category: string, code = 'x') => agentRetryHints({ category, code, message: '' })[0];
    expect(hint('agent', 'agent-no-changes')).toMatch(/ended without pushing any change/);
    expect(hint('agent', 'agent-out-of-tokens')).toMatch(/ran out of room/);
    expect(hint('agent')).toMatch(/stopped before it delivered a pull request/);
    expect(hint('timeout')).toMatch(/took too long/);
    expect(hint('prompt')).toMatch(/make a reasonable assumption/);
    expect(hint('conflict')).toMatch(/rebase on the base branch/);
    expect(hint('network')).toMatch(/infrastructure problem/);
  });
});
