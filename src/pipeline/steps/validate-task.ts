/**
 * Step: check the claimed task before anything is spent on it. A malformed row fails here with a validation
 * error naming what is wrong; the daemon goes on with the next task.
 */
import { DaemonError } from '../../domain/errors.js';
import type { Task } from '../../domain/task.js';
import { repositoryProblem } from '../../domain/task-text.js';
import { validateStoredTask } from '../../domain/task-validation.js';

/** Returns the repository ("owner/repo") the task's PR belongs in. */
export function validateTask(task: Task, defaultRepository: string): { repository: string } {
  const problems = validateStoredTask(task);
  const repository = task.repository || defaultRepository;
  if (!repository) {
    problems.push('repository: the task names no repository and GITHUB_REPOSITORY (github.repository) is not set');
  } else if (!task.repository) {
    // The task's own repository was checked above; the configured default gets GitHub's rule here.
    const problem = repositoryProblem(repository);
    if (problem) problems.push(`repository (GITHUB_REPOSITORY) ${problem}`);
  }
  if (problems.length > 0) {
    throw new DaemonError(`task ${task.id} is invalid: ${problems.join('; ')}`, {
      code: 'task-invalid',
      category: 'validation',
    });
  }
  return { repository };
}
