import { describe, expect, it } from '@jest/globals';
import { makeTask } from '../../test/fixtures/prompt-fixtures.js';
import { branchNameForTask, isValidBranchName, renderCommitMessage } from './git-naming.js';

describe('branchNameForTask', () => {
  it('is prefix + id for ordinary ids', () => {
    expect(branchNameForTask('codegen/task-', '123')).toBe('codegen/task-123');
    expect(branchNameForTask('codegen/task-', 'task-123')).toBe('codegen/task-task-123');
    expect(branchNameForTask('bots/', 'ABC-1234')).toBe('bots/ABC-1234');
  });

  it.each([
    'fix login bug',
    'team/42',
    'a/../b',
    'x.lock',
    '.hidden',
    'weird~^:?*[\\name',
    'at@{1}',
    'tab\tand\nnewline',
    'ends.with.dot.',
    '---',
    '',
    'é unicode ✓',
    'x'.repeat(300),
  ])('makes the id %j into a valid branch name', (id) => {
    const name = branchNameForTask('codegen/task-', id);
    expect(isValidBranchName(name)).toBe(true);
    expect(name.startsWith('codegen/task-')).toBe(true);
    expect(name.length).toBeLessThanOrEqual('codegen/task-'.length + 64);
    expect(name.slice('codegen/task-'.length)).not.toContain('/');
    expect(branchNameForTask('codegen/task-', id)).toBe(name); // deterministic
  });

  it('keeps ids that clean to the same text apart', () => {
    const names = ['a b', 'a-b', 'a/b', 'a  b'].map((id) => branchNameForTask('p/', id));
    expect(new Set(names).size).toBe(4);
    expect(names[1]).toBe('p/a-b');
    expect(names[0]).toMatch(/^p\/a-b-[0-9a-f]{8}$/);
  });

  it('cleans a bad prefix but keeps its slashes', () => {
    expect(branchNameForTask('my bots//task..', '1')).toBe('my-bots/task1');
    expect(branchNameForTask('/.codegen/', '1')).toBe('codegen/1');
    expect(isValidBranchName(branchNameForTask('x.lock/', '1'))).toBe(true);
  });
});

describe('isValidBranchName', () => {
  it.each(['main', 'codegen/task-1', 'a.b/c_d-e'])('accepts %j', (name) => expect(isValidBranchName(name)).toBe(true));
  it.each(['', '@', 'a b', 'a..b', 'a/', '/a', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', 'a@{b', 'a:b', '-a'])(
    'refuses %j',
    (name) => expect(isValidBranchName(name)).toBe(false),
  );
});

describe('renderCommitMessage', () => {
  it("fills the seed's placeholders and keeps the title on one line", () => {
    const task = makeTask({ title: 'Add\nlogin ', description: 'Body line 1\r\nBody line 2  \n' });
    expect(renderCommitMessage('feat: {{TASK_TITLE}}\n\n{{TASK_DESCRIPTION}}', task)).toBe(
      'feat: Add login\n\nBody line 1\nBody line 2',
    );
  });

  it('also knows TASK_ID and TASK_TYPE', () => {
    const task = makeTask({ id: 'T-9', type: 'bugfix', title: 'Fix it' });
    expect(renderCommitMessage('{{TASK_TYPE}}: {{TASK_TITLE}}\n\nTask: {{TASK_ID}}', task)).toBe(
      'bugfix: Fix it\n\nTask: T-9',
    );
  });

  it('strips control and bidi characters from the task text and never expands placeholders inside it', () => {
    const task = makeTask({
      title: 'Fix\u001b[2J it\u202e',
      description: 'Body {{BRANCH}}\u0000 \u200bline\rnext',
    });
    expect(renderCommitMessage('feat: {{TASK_TITLE}}\n\n{{TASK_DESCRIPTION}}', task)).toBe(
      'feat: Fix it\n\nBody {{BRANCH}} line\nnext',
    );
  });
});
