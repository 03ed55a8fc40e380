/** Built-in template for bug fixes (config name `bugfix_template`). */
import { compose } from './common.js';

export const BUGFIX_TEMPLATE = compose(
  'Bug fix',
  'Fix the bug described below at its root cause and deliver the fix as one pull request.',
  'The bug',
  [
    'Reproduce the bug first, ideally with a test that fails because of it.',
    'Find the root cause and fix it there, not only where the symptom shows.',
    'Keep the fix minimal; leave unrelated code alone.',
    'Keep the reproducing test as a regression test; it must pass with the fix.',
    'Explain the cause and the fix in the pull request description.',
  ],
);
